import {
  CloseCode,
  DisconnectReason,
  encodeServerMessage,
  type StandardSchemaV1,
} from "@heartline/protocol";
import { instrumentServer } from "../metrics/instrument.js";
import {
  type Admission,
  type AdmissionRequest,
  createAdmission,
  type UpgradeRequest,
} from "./admission-order.js";
import { broadcast } from "./broadcast.js";
import { CapacityLedger } from "./capacity.js";
import { type ConnectionSession, ServerConnection } from "./connection.js";
import type { Connection, DisconnectInfo } from "./connection-api.js";
import { type ConnectionHost, type SessionRoute, TrafficCounters } from "./connection-host.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import { HeartbeatTimeout } from "./heartbeat-timeout.js";
import type { RejectedRequest, ServerEventName, ServerListeners } from "./listeners.js";
import { type ResolvedCoreOptions, resolveCoreOptions, type ServerCoreOptions } from "./options.js";
import { OutboundBudget } from "./outbound-budget.js";
import { KeepAliveSweep } from "./ping-handling.js";
import { createMemorySessionStore } from "./resume/memory-session-store.js";
import type { ResumeOffer } from "./resume/resume-api.js";
import { NO_SESSIONS, type OpenVerdict, Resumption } from "./resume/resumption.js";
import type { SessionStore } from "./resume/store-api.js";
import { ServerEvents } from "./server-events.js";
import { type ServerState, Shutdown } from "./shutdown.js";

export type { ServerState } from "./shutdown.js";

import type { ServerStats } from "./stats.js";
import { StatsLedger } from "./stats-ledger.js";
import type { ConnectionInfo, ServerTransport, TransportSink } from "./transport.js";
import type { UpgradeRejection } from "./upgrade-rejection.js";
import { type WelcomeTerms, welcomeFrame } from "./welcome.js";

// The server core: the public interface, and the class that wires its jobs
// together. Each job lives in its own file: admission (`admission-order.ts`),
// the 2X timeout (`heartbeat-timeout.ts`), ping handling (`ping-handling.ts`),
// resumption (`resume/resumption.ts`), broadcast (`broadcast.ts`), stats
// (`stats-ledger.ts`), shutdown (`shutdown.ts`), events and the listener
// policy (`server-events.ts`); one connection's state machine is `connection.ts`.

/**
 * The transport-free server: connections, listeners, stats, broadcast and
 * shutdown. Adapters (`ws`, in-memory) run each upgrade through `admit`,
 * then hand the accepted ones' transports to `accept`.
 */
export interface ServerCore<
  TClient = unknown,
  TServer = unknown,
  TAuth = unknown,
  TRequest = UpgradeRequest,
> {
  /**
   * Runs an upgrade through the admission checks, in the contract's order
   * (`admission-order.ts`): closing 503, path 404, origin 403, subprotocol
   * 400, capacity 503/429, `authenticate` 401, then the resume offer is read.
   * A refusal is reported (`upgradeRejected`, stats) before it is returned;
   * the adapter only answers it. Synchronous unless a check is asynchronous
   * (`authenticate`).
   */
  admit(request: AdmissionRequest<TRequest>): Admission<TAuth> | Promise<Admission<TAuth>>;
  /** Takes a connection whose upgrade succeeded; sends `welcome`; returns where to feed its events. */
  accept(transport: ServerTransport, info: ConnectionInfo<TAuth>): TransportSink;
  /**
   * For adapters: an upgrade `admit` accepted will never reach `accept`
   * (the client left first, or the runtime refused the handshake); give
   * the admission, or the `ConnectionInfo` made from it. The session the store opened for it goes
   * back (a new one dropped unreported; a resumed one waits again, its
   * token still good). A no-op for an admission that opened none.
   */
  abandon(upgrade: Admission<TAuth> | ConnectionInfo<TAuth>): void;
  /** False once `close()` was called (its drain included): adapters refuse new upgrades (503). */
  readonly accepting: boolean;
  /**
   * `open`; `draining` (`close({ drainMs })` called: new upgrades get 503 +
   * `Retry-After`, open clients are kept); `closing` (goodbye sent, waiting
   * for sockets to go); `closed` (`close()` resolved). For readiness checks.
   */
  readonly state: ServerState;
  /**
   * Sends `data` to every open connection, and with resumption on keeps it
   * for every session waiting for its client (numbered, replayed when it
   * resumes, reported undelivered if it ends first), each if `filter`
   * accepts it (a waiting session is given as its handle: `isOpen` false,
   * `state` "waiting"). Returns how many took it: connections written to
   * plus waiting sessions that kept it (a session whose buffer was full,
   * which then ends `overflow`, and a connection shed as a slow consumer
   * are not counted).
   */
  broadcast(data: TServer, filter?: (conn: Connection<TServer, TAuth>) => boolean): number;
  /**
   * The session `sessionId` as the application may hold it: with
   * resumption on, its handle while the session lasts (live or waiting for
   * its client; `send` accepts in both); a plain v1 connection while it is
   * open; else undefined.
   */
  session(sessionId: string): Connection<TServer, TAuth> | undefined;
  /** Open connections, in accept order. */
  connections(): IterableIterator<Connection<TServer, TAuth>>;
  /** A snapshot of the counters (see the README's Stats). */
  stats(): ServerStats;
  /** Adds a listener; returns a function that removes it. */
  on<E extends ServerEventName>(
    event: E,
    listener: ServerListeners<TClient, TServer, TAuth>[E],
  ): () => void;
  /** For adapters: reports a refusal `admit` did not make (the `ws` library's own handshake checks). */
  reportRejected(rejection: UpgradeRejection, request?: RejectedRequest): void;
  /** For adapters: reports an error on the `error` event (never throws). */
  reportError(error: HeartlineError, conn?: Connection<TServer, TAuth>): void;
  /**
   * For adapters: accepting a connection failed for want of descriptors
   * (EMFILE/ENFILE). Counted each time (`stats().acceptErrors`); reported on
   * `error` (`descriptors_exhausted`) once per episode, which ends at the
   * next accepted connection.
   */
  reportAcceptError(cause: unknown): void;
  /**
   * Stops accepting; after `drainMs` (default 0) sends each open client
   * `goodbye` then 1001 (reported `server_closed`) and ends every resumable
   * session, live or waiting (`sessionEnd` reason `server_closed`, with its
   * undelivered messages: sessions in process memory cannot outlive the
   * process), before the promise resolves; resolves when every socket is
   * gone, destroying those still there `closeTimeoutMs` after the goodbye.
   * During the drain new upgrades are refused 503 with `Retry-After` and
   * open clients carry on, so a load balancer polling readiness stops
   * routing here before anyone is told to leave. Idempotent: a later call's
   * `drainMs` is ignored.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** `close()`'s options. */
export interface CloseOptions {
  /** How long to keep open clients while refusing new upgrades before the goodbye. Default 0. */
  readonly drainMs?: number;
}

/**
 * Above this interval, with keep-alive off, a connection is silent longer
 * than common proxies' idle timeouts (nginx and AWS ALB 60 s): the server
 * warns once at start.
 */
export const PROXY_IDLE_WARNING_MS = 55_000;

function proxyIdleRisk(intervalMs: number): HeartlineError {
  return new HeartlineError(
    ServerErrorCode.ProxyIdleTimeout,
    `intervalMs ${intervalMs} is above ${PROXY_IDLE_WARNING_MS} ms with keepAliveIntervalMs 0: ` +
      "a proxy with a 60 s idle timeout (nginx, AWS ALB) will cut idle connections; " +
      'set keepAliveIntervalMs below the proxy\'s timeout (README, "Behind a reverse proxy")',
  );
}

const NOOP_SINK: TransportSink = Object.freeze({
  receive() {},
  receiveBinary() {},
  refused() {},
  drained() {},
  errored() {},
  closed() {},
});

function insecureOrigins(): HeartlineError {
  return new HeartlineError(
    ServerErrorCode.InsecureOrigins,
    'allowedOrigins "*" with authenticate: any site can open an authenticated connection with its visitors\' cookies',
  );
}

type Conn<TClient, TServer, TAuth> = ServerConnection<TClient, TServer, TAuth>;
/** No session waits with resumption off. */
const NO_WAITING: readonly never[] = Object.freeze([]);
type Session<TClient, TServer, TAuth> = ConnectionSession<TClient, TServer, TAuth>;

function checkStore(store: unknown): void {
  const s = store as Partial<SessionStore> | null;
  if (
    typeof s !== "object" ||
    s === null ||
    typeof s.open !== "function" ||
    typeof s.start !== "function" ||
    typeof s.nodeId !== "string"
  ) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      "resume.store must be a SessionStore (createMemorySessionStore(), or a shared store)",
    );
  }
}

export class ServerCoreImpl<TClient, TServer, TAuth, TRequest>
  implements
    ServerCore<TClient, TServer, TAuth, TRequest>,
    ConnectionHost<
      Conn<TClient, TServer, TAuth>,
      TClient,
      TServer,
      Session<TClient, TServer, TAuth>
    >
{
  readonly options: ResolvedCoreOptions;
  readonly clientSchema: StandardSchemaV1<unknown, TClient> | undefined;
  readonly serverSchema: StandardSchemaV1<unknown, TServer> | undefined;
  /** Bumped by the connections directly (plain fields: no call per frame). */
  readonly counters = new TrafficCounters();
  readonly outbound: OutboundBudget;
  readonly capacity: CapacityLedger;
  readonly admit: (
    request: AdmissionRequest<TRequest>,
  ) => Admission<TAuth> | Promise<Admission<TAuth>>;
  readonly #events: ServerEvents<TClient, TServer, TAuth>;
  readonly #stats = new StatsLedger();
  /** The silence watch of every open connection, under one clock timer. */
  readonly #timeouts: HeartbeatTimeout<Conn<TClient, TServer, TAuth>>;
  /** Resumable sessions; undefined with resumption off (then nothing of it is allocated). */
  readonly #resumption: Resumption<TServer, TAuth, Conn<TClient, TServer, TAuth>> | undefined;
  readonly #terms: WelcomeTerms;
  /** Every connection whose socket is not gone yet (open or closing). */
  readonly #live = new Set<Conn<TClient, TServer, TAuth>>();
  /** Open plain v1 connections by session id, for `session(id)` (resumable ones have a handle). */
  readonly #plain = new Map<string, Conn<TClient, TServer, TAuth>>();
  readonly #keepAlive: KeepAliveSweep;
  readonly #shutdown: Shutdown;

  constructor(options: ServerCoreOptions<TClient, TServer, TAuth, TRequest>) {
    const resolved = resolveCoreOptions(options);
    this.options = resolved;
    this.#events = new ServerEvents(options.on);
    this.#timeouts = new HeartbeatTimeout(resolved.clock, resolved.timeoutMs);
    this.outbound = new OutboundBudget(resolved.maxBufferedBytesTotal);
    this.capacity = new CapacityLedger(resolved.maxConnections, resolved.maxConnectionsPerAddress);
    this.admit = createAdmission(options, this, resolved);
    this.clientSchema = options.protocol?.client;
    this.serverSchema = options.protocol?.server;
    const limit = resolved.rateLimit;
    this.#terms = Object.freeze({
      intervalMs: resolved.intervalMs,
      timeoutMs: resolved.timeoutMs,
      // Announced so a client paces within it (PROTOCOL.md "Rate limit"); the byte budget is not part of the terms.
      rate:
        limit === undefined
          ? undefined
          : Object.freeze({ perSecond: limit.perSecond, burst: limit.burst }),
    });
    this.#keepAlive = new KeepAliveSweep(
      resolved.clock,
      resolved.keepAliveIntervalMs,
      this.#live,
      // Through a drain too: the clients it keeps stay behind idle-cutting proxies.
      () => !this.#shutdown.saidGoodbye,
    );
    this.#shutdown = new Shutdown(resolved.clock, resolved.closeTimeoutMs);
    let store: SessionStore<TServer, TAuth> | undefined;
    if (resolved.resume !== undefined) {
      const given = (options.resume as { store?: SessionStore<TServer, TAuth> }).store;
      if (given !== undefined) checkStore(given);
      store = given ?? createMemorySessionStore<TServer, TAuth>();
    }
    this.#resumption =
      store === undefined
        ? undefined
        : new Resumption(
            store,
            resolved.resume!,
            resolved.clock,
            this.#terms,
            {
              sessionEnd: (info) => this.#events.emit("sessionEnd", info, undefined),
              sessionMoved: (info) => this.#events.emit("sessionMoved", info, undefined),
              sessionAdopted: (info) => this.#events.emit("sessionAdopted", info, undefined),
              error: (error) => this.reportError(error),
            },
            this,
          );
    // Metrics (issue 16): the one wiring point; the instrumentation uses only the public surface.
    instrumentServer(this as never, options.meterProvider, resolved);
    if (options.allowedOrigins === "*" && options.authenticate !== undefined) {
      // After creation, so a listener added right after `createServer` hears it too.
      queueMicrotask(() => this.#events.warn(insecureOrigins()));
    }
    if (this.options.intervalMs > PROXY_IDLE_WARNING_MS && this.options.keepAliveIntervalMs === 0) {
      const { intervalMs } = this.options;
      queueMicrotask(() => this.#events.warn(proxyIdleRisk(intervalMs)));
    }
  }

  get state(): ServerState {
    return this.#shutdown.phase;
  }

  get accepting(): boolean {
    return !this.#shutdown.started;
  }

  accept(transport: ServerTransport, info: ConnectionInfo<TAuth>): TransportSink {
    if (this.#shutdown.started) {
      this.#resumption?.release(info.resume);
      transport.close(CloseCode.GoingAway, DisconnectReason.ServerClosed);
      return NOOP_SINK;
    }
    const conn = new ServerConnection(this, transport, "", info.remoteAddress, info.auth) as Conn<
      TClient,
      TServer,
      TAuth
    >;
    const resumption = this.#resumption;
    let welcome: string;
    let resumed: { gapMs: number; ack: number } | undefined;
    if (resumption === undefined || info.resume === undefined) {
      // Resumption off, or a client that did not offer it: plain v1.
      conn.sessionId = this.options.generateSessionId();
      welcome = welcomeFrame(conn.sessionId, this.#terms);
      this.#plain.set(conn.sessionId, conn);
    } else {
      ({ welcome, resumed } = resumption.open(
        conn,
        info.resume,
        info.auth,
        this.options.generateSessionId,
      ));
    }
    this.#live.add(conn);
    this.capacity.take(conn.remoteAddress);
    this.#stats.connected();
    conn.start(welcome);
    // Replay before anything new, so before any listener can send.
    const replayed = resumed === undefined ? 0 : conn.replay();
    this.#keepAlive.start();
    this.#events.emit("connection", conn, info.request);
    if (resumed !== undefined) {
      const { gapMs, ack } = resumed;
      const sessionId = conn.sessionId;
      this.#events.emit("resumed", { sessionId, gapMs, replayed, ack }, conn);
      // The deprecated name, with its old shape.
      this.#events.emit(
        "resume",
        { sessionId, gapMs, replayed: { toClient: replayed }, ack },
        conn,
      );
    }
    return conn;
  }

  abandon(upgrade: Admission<TAuth> | ConnectionInfo<TAuth>): void {
    if ("resume" in upgrade) this.#resumption?.release(upgrade.resume);
  }

  // ---- AdmissionHost: admission's last step ----

  /** The store opens the session for an upgrade that offered resumption (synchronously with the in-process store). */
  openSession(
    token: string | undefined,
    auth: TAuth,
    address: string | undefined,
  ): OpenVerdict | Promise<OpenVerdict> {
    return this.#resumption!.openAt(token, auth, address, this.options.generateSessionId);
  }

  /** An upgrade admission opened a session for was refused or abandoned before its answer. */
  releaseSession(offer: ResumeOffer | undefined): void {
    this.#resumption?.release(offer);
  }

  broadcast(data: TServer, filter?: (conn: Connection<TServer, TAuth>) => boolean): number {
    return broadcast(
      this.#live,
      this.#resumption?.waiting() ?? NO_WAITING,
      this.serverSchema,
      this.counters,
      data,
      filter,
    );
  }

  session(sessionId: string): Connection<TServer, TAuth> | undefined {
    const handle = this.#resumption?.handle(sessionId);
    if (handle !== undefined) return handle;
    const conn = this.#plain.get(sessionId);
    return conn?.isOpen === true ? conn : undefined;
  }

  *connections(): IterableIterator<Connection<TServer, TAuth>> {
    for (const conn of this.#live) if (conn.isOpen) yield conn;
  }

  stats(): ServerStats {
    return this.#stats.snapshot(
      this.counters,
      this.#resumption?.stats() ?? NO_SESSIONS,
      this.outbound.total,
    );
  }

  on<E extends ServerEventName>(
    event: E,
    listener: ServerListeners<TClient, TServer, TAuth>[E],
  ): () => void {
    return this.#events.on(event, listener);
  }

  reportRejected(rejection: UpgradeRejection, request?: RejectedRequest): void {
    this.#stats.refused(rejection);
    this.#events.emit("upgradeRejected", rejection, request);
  }

  reportError(error: HeartlineError, conn?: Connection<TServer, TAuth>): void {
    this.#events.reportError(error, conn);
  }

  reportAcceptError(cause: unknown): void {
    if (!this.#stats.acceptFailed()) return;
    this.reportError(
      new HeartlineError(
        ServerErrorCode.DescriptorsExhausted,
        "out of file descriptors accepting connections (EMFILE/ENFILE): set maxConnections below the process's limit",
        { cause },
      ),
    );
  }

  close(options: CloseOptions = {}): Promise<void> {
    const drainMs = options.drainMs ?? 0;
    if (!(drainMs >= 0) || !Number.isFinite(drainMs)) {
      throw new HeartlineError(ServerErrorCode.InvalidOption, "drainMs must be 0 or more");
    }
    return this.#shutdown.begin(
      this.#live,
      drainMs,
      () => {
        this.#keepAlive.stop();
        return encodeServerMessage({ type: "goodbye", reconnect: this.options.reconnectWindow });
      },
      // Every connection's end is decided by now (goodbye, 1001), and each
      // live session ended with it (in-process store) or was detached (a
      // shared store). Then the store's shutdown: the in-process store ends
      // those waiting for their client, reported with their undelivered
      // messages (a process that exits after `await close()` has reported
      // every session it held); a shared store hands them to the survivors.
      () => this.#resumption?.shutdown(),
    );
  }

  // ---- ConnectionHost: called by ServerConnection ----

  watch(conn: Conn<TClient, TServer, TAuth>): void {
    this.#timeouts.watch(conn);
  }

  unwatch(conn: Conn<TClient, TServer, TAuth>): void {
    this.#timeouts.unwatch(conn);
  }

  connectionMessage(
    conn: Conn<TClient, TServer, TAuth>,
    data: TClient,
    seq: number | undefined,
  ): void {
    this.#events.emit("message", conn, data, seq);
  }

  connectionError(conn: Conn<TClient, TServer, TAuth>, error: HeartlineError): void {
    this.reportError(error, conn);
  }

  connectionEnded(
    conn: Conn<TClient, TServer, TAuth>,
    reason: DisconnectReason,
    code: number | undefined,
    session: Session<TClient, TServer, TAuth> | undefined,
  ): void {
    this.#stats.disconnected(reason);
    if (this.#plain.get(conn.sessionId) === conn) this.#plain.delete(conn.sessionId);
    // The window rule decides first, so the report can say; a deliberate end
    // ends the session after the report (disconnect, then sessionEnd).
    let resumable = reason === DisconnectReason.Replaced;
    let endsSession = false;
    const resumption = this.#resumption;
    if (session !== undefined) {
      // In shutdown a session of the in-process store ends with its
      // connection: it lives in this process's memory and cannot outlive it
      // (so the report says `resumable: false`, then `sessionEnd`), whatever
      // the window rule says of 1001. A shared store's session is detached,
      // for a survivor to adopt.
      const verdict =
        this.#shutdown.saidGoodbye && !resumption!.durable
          ? "ends"
          : resumption!.afterEnd(session, conn, reason, code);
      resumable = verdict === "kept";
      endsSession = verdict === "ends";
    }
    if (conn.owner !== undefined) resumption?.connectionEnded(conn);
    const info: DisconnectInfo<TAuth> =
      code === undefined
        ? {
            sessionId: conn.sessionId,
            reason,
            lastHeardAt: conn.lastHeardAt,
            lastSeenAt: conn.lastHeardAt,
            connectedAt: conn.connectedAt,
            auth: conn.auth,
            resumable,
          }
        : {
            sessionId: conn.sessionId,
            reason,
            code,
            lastHeardAt: conn.lastHeardAt,
            lastSeenAt: conn.lastHeardAt,
            connectedAt: conn.connectedAt,
            auth: conn.auth,
            resumable,
          };
    this.#events.emit("disconnect", info, conn);
    if (endsSession) resumption!.end(session!, reason, conn.owner);
  }

  queueAck(conn: Conn<TClient, TServer, TAuth>): void {
    this.#resumption?.queueAck(conn);
  }

  endSession(session: Session<TClient, TServer, TAuth>, reason: "overflow"): void {
    this.#resumption?.end(session, reason);
  }

  sessionRoute(sessionId: string): SessionRoute<TServer> | undefined {
    return this.#resumption?.handle(sessionId);
  }

  connectionGone(conn: Conn<TClient, TServer, TAuth>): void {
    if (this.#live.delete(conn)) this.capacity.release(conn.remoteAddress);
    if (this.#live.size === 0) {
      this.#keepAlive.stop();
      this.#shutdown.allGone();
    }
  }
}

/** Creates the transport-free core; see `ServerCore`. */
export function createServerCore<
  TClient = unknown,
  TServer = unknown,
  TAuth = unknown,
  TRequest = UpgradeRequest,
>(
  options: ServerCoreOptions<TClient, TServer, TAuth, TRequest> = {},
): ServerCore<TClient, TServer, TAuth, TRequest> {
  return new ServerCoreImpl(options);
}

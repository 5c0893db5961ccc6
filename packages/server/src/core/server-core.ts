import {
  CloseCode,
  DisconnectReason,
  encodeServerMessage,
  listenerThrew,
  PROTOCOL_VERSION,
  type ResumeFailure,
  rethrowLater,
  type StandardSchemaV1,
  type TimerHandle,
  validateData,
  type WelcomeMessage,
} from "@heartline/protocol";
import { instrumentServer } from "../metrics/instrument.js";
import {
  type Admission,
  type AdmissionRequest,
  createAdmission,
  type UpgradeRequest,
} from "./admission.js";
import { CapacityLedger } from "./capacity.js";
import { type ConnectionSession, ServerConnection } from "./connection.js";
import type { Connection, DisconnectInfo } from "./connection-api.js";
import { type ConnectionHost, TrafficCounters } from "./connection-host.js";
import { DeadlineQueue } from "./deadline-queue.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import type { RejectedRequest, ServerEventName, ServerListeners } from "./listeners.js";
import { type ResolvedCoreOptions, resolveCoreOptions, type ServerCoreOptions } from "./options.js";
import { OutboundBudget } from "./outbound-budget.js";
import { AckQueue } from "./resume/ack-queue.js";
import type { SessionEndReason } from "./resume/resume-api.js";
import { type SessionEnd, SessionStore } from "./resume/session-store.js";
import { unrefClock } from "./resume/unref-clock.js";
import { sessionSurvives } from "./resume/window-rules.js";
import type { ServerStats } from "./stats.js";
import type { ConnectionInfo, ServerTransport, TransportSink } from "./transport.js";
import { type UpgradeRejection, UpgradeRejectReason } from "./upgrade-rejection.js";

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
   * Runs an upgrade through the admission checks, in the contract's order:
   * closing 503, path 404, origin 403, subprotocol 400, `authenticate` 401.
   * A refusal is reported (`upgradeRejected`, stats) before it is returned;
   * the adapter only answers it. Synchronous unless a check is asynchronous
   * (`authenticate`).
   */
  admit(request: AdmissionRequest<TRequest>): Admission<TAuth> | Promise<Admission<TAuth>>;
  /** Takes a connection whose upgrade succeeded; sends `welcome`; returns where to feed its events. */
  accept(transport: ServerTransport, info: ConnectionInfo<TAuth>): TransportSink;
  /** False once `close()` was called (its drain included): adapters refuse new upgrades (503). */
  readonly accepting: boolean;
  /**
   * `open`; `draining` (`close({ drainMs })` called: new upgrades get 503 +
   * `Retry-After`, open clients are kept); `closing` (goodbye sent, waiting
   * for sockets to go); `closed` (`close()` resolved). For readiness checks.
   */
  readonly state: ServerState;
  /** Sends `data` to every open connection (that `filter` accepts); returns how many got it. */
  broadcast(data: TServer, filter?: (conn: Connection<TServer, TAuth>) => boolean): number;
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
   * `goodbye` then 1001 (reported `server_closed`); resolves when every
   * socket is gone, destroying those still there `closeTimeoutMs` after the
   * goodbye. During the drain new upgrades are refused 503 with
   * `Retry-After` and open clients carry on, so a load balancer polling
   * readiness stops routing here before anyone is told to leave.
   * Idempotent: a later call's `drainMs` is ignored.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** `close()`'s options. */
export interface CloseOptions {
  /** How long to keep open clients while refusing new upgrades before the goodbye. Default 0. */
  readonly drainMs?: number;
}

/** Where the server is in its life; see `ServerCore.state`. */
export type ServerState = "open" | "draining" | "closing" | "closed";

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

type ListenerTable = { [E in ServerEventName]: ReadonlyArray<ServerListeners[E]> };

const NOOP_SINK: TransportSink = Object.freeze({
  receive() {},
  receiveBinary() {},
  refused() {},
  drained() {},
  errored() {},
  closed() {},
});

function emptyReasonCounts(): Record<UpgradeRejectReason, number> {
  const counts = {} as Record<UpgradeRejectReason, number>;
  for (const reason of Object.values(UpgradeRejectReason)) counts[reason] = 0;
  return counts;
}

function emptyDisconnectCounts(): Record<DisconnectReason, number> {
  const counts = {} as Record<DisconnectReason, number>;
  for (const reason of Object.values(DisconnectReason)) counts[reason] = 0;
  return counts;
}

function insecureOrigins(): HeartlineError {
  return new HeartlineError(
    ServerErrorCode.InsecureOrigins,
    'allowedOrigins "*" with authenticate: any site can open an authenticated connection with its visitors\' cookies',
  );
}

type Conn<TClient, TServer, TAuth> = ServerConnection<TClient, TServer, TAuth>;
type Session<TClient, TServer, TAuth> = ConnectionSession<TClient, TServer, TAuth>;

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
  readonly admit: (
    request: AdmissionRequest<TRequest>,
  ) => Admission<TAuth> | Promise<Admission<TAuth>>;
  /** The silence watch of every open connection, under one clock timer. */
  readonly #deadlines: DeadlineQueue<Conn<TClient, TServer, TAuth>>;
  #accepted = 0;
  #open = 0;
  readonly #disconnects = emptyDisconnectCounts();
  readonly #rejected: Record<number, number> = {};
  readonly #rejectedByReason = emptyReasonCounts();
  readonly capacity: CapacityLedger;
  #acceptErrors = 0;
  #acceptErrorEpisodes = 0;
  #inAcceptErrorEpisode = false;
  /** Every connection whose socket is not gone yet (open or closing). */
  readonly #live = new Set<Conn<TClient, TServer, TAuth>>();
  #listeners: ListenerTable = {
    connection: [],
    message: [],
    disconnect: [],
    resume: [],
    sessionEnd: [],
    error: [],
    upgradeRejected: [],
  };
  /** Resumable sessions; undefined with resumption off (then nothing below is allocated). */
  readonly #sessions: SessionStore<TServer, TAuth, Conn<TClient, TServer, TAuth>> | undefined;
  /** Acks owed to clients, flushed at the latest one interval after receipt, under one timer. */
  readonly #acks: AckQueue<Conn<TClient, TServer, TAuth>> | undefined;
  #resumedCount = 0;
  #endedCount = 0;
  readonly #terms: { intervalMs: number; timeoutMs: number };
  #keepAliveHandle: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  #phase: ServerState = "open";
  #resolveClosing: (() => void) | undefined;
  #deadline: TimerHandle | undefined;

  constructor(options: ServerCoreOptions<TClient, TServer, TAuth, TRequest>) {
    this.options = resolveCoreOptions(options);
    this.#deadlines = new DeadlineQueue(this.options.clock, this.options.timeoutMs);
    this.outbound = new OutboundBudget(this.options.maxBufferedBytesTotal);
    this.capacity = new CapacityLedger(
      this.options.maxConnections,
      this.options.maxConnectionsPerAddress,
    );
    this.admit = createAdmission(options, this, this.options);
    this.clientSchema = options.protocol?.client;
    this.serverSchema = options.protocol?.server;
    this.#terms = Object.freeze({
      intervalMs: this.options.intervalMs,
      timeoutMs: this.options.timeoutMs,
    });
    const resume = this.options.resume;
    if (resume !== undefined) {
      // Neither a detached session's window nor an ack still queued for a
      // closed socket may keep a closed server's process alive.
      const clock = unrefClock(this.options.clock);
      this.#sessions = new SessionStore<TServer, TAuth, Conn<TClient, TServer, TAuth>>({
        windowMs: resume.windowMs,
        maxUnackedMessages: resume.maxUnackedMessages,
        maxUnackedBytes: resume.maxUnackedBytes,
        maxUnackedBytesTotal: resume.maxUnackedBytesTotal,
        maxSessions: resume.maxSessions,
        sameClient: resume.sameClient,
        onEnd: (end) => this.#sessionEnded(end),
        clock,
      });
      this.#acks = new AckQueue(clock, this.options.intervalMs);
    } else {
      this.#sessions = undefined;
      this.#acks = undefined;
    }
    // Metrics (issue 16): the one wiring point; the instrumentation uses only the public surface.
    instrumentServer(this as never, options.meterProvider, this.options);
    const on = options.on;
    if (on) {
      for (const name of Object.keys(this.#listeners) as ServerEventName[]) {
        const listener = on[name];
        if (listener) this.on(name, listener as never);
      }
    }
    if (options.allowedOrigins === "*" && options.authenticate !== undefined) {
      // After creation, so a listener added right after `createServer` hears it too.
      queueMicrotask(() => this.#warn(insecureOrigins()));
    }
    if (this.options.intervalMs > PROXY_IDLE_WARNING_MS && this.options.keepAliveIntervalMs === 0) {
      const { intervalMs } = this.options;
      queueMicrotask(() => this.#warn(proxyIdleRisk(intervalMs)));
    }
  }

  get state(): ServerState {
    return this.#phase;
  }

  get accepting(): boolean {
    return this.#closing === undefined;
  }

  accept(transport: ServerTransport, info: ConnectionInfo<TAuth>): TransportSink {
    if (this.#closing !== undefined) {
      transport.close(CloseCode.GoingAway, DisconnectReason.ServerClosed);
      return NOOP_SINK;
    }
    const conn = new ServerConnection(this, transport, "", info.remoteAddress, info.auth) as Conn<
      TClient,
      TServer,
      TAuth
    >;
    const store = this.#sessions;
    const offer = info.resume;
    let welcome: string;
    let resumed: { gapMs: number; ack: number } | undefined;
    if (store === undefined || offer === undefined) {
      // Resumption off, or a client that did not offer it: plain v1.
      conn.sessionId = this.options.generateSessionId();
      welcome = this.#welcome(conn.sessionId, undefined, undefined);
    } else {
      const taken =
        offer.token === undefined ? undefined : store.take(offer.token, info.auth, conn);
      if (taken?.ok === true) {
        conn.bind(taken.session);
        // Before the new welcome: the old connection's end is reported at this moment, once.
        taken.replaced?.replace();
        resumed = { gapMs: taken.gapMs, ack: taken.session.receivedSeq };
        this.#resumedCount++;
        welcome = this.#welcome(conn.sessionId, taken.token, { ack: resumed.ack });
      } else {
        conn.sessionId = this.options.generateSessionId();
        const created = store.create(conn.sessionId, info.auth, conn);
        // At maxSessions: plain v1 (no `resume` in the welcome tells the client).
        if (created === undefined) welcome = this.#welcome(conn.sessionId, undefined, undefined);
        else {
          conn.bind(created.session);
          welcome = this.#welcome(conn.sessionId, created.token, taken?.failure);
        }
      }
    }
    this.#live.add(conn);
    this.capacity.take(conn.remoteAddress);
    this.#inAcceptErrorEpisode = false;
    this.#accepted++;
    this.#open++;
    conn.start(welcome);
    // Replay before anything new, so before any listener can send.
    const replayed = resumed === undefined ? 0 : conn.replay();
    if (this.options.keepAliveIntervalMs > 0 && this.#keepAliveHandle === undefined) {
      this.#scheduleKeepAlive();
    }
    this.#emit("connection", conn, info.request);
    if (resumed !== undefined) {
      this.#emit(
        "resume",
        {
          sessionId: conn.sessionId,
          gapMs: resumed.gapMs,
          replayed: { toClient: replayed },
          ack: resumed.ack,
        },
        conn,
      );
    }
    return conn;
  }

  /**
   * The welcome frame: plain v1 without a token; with one, `resume` and
   * then `resumed` (an `{ ack }`) or `resumeFailed` (a failure name).
   */
  #welcome(
    sessionId: string,
    token: string | undefined,
    outcome: { ack: number } | ResumeFailure | undefined,
  ): string {
    if (token === undefined) {
      return encodeServerMessage({
        type: "welcome",
        protocol: PROTOCOL_VERSION,
        sessionId,
        heartbeat: this.#terms,
      });
    }
    const message: WelcomeMessage = {
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      sessionId,
      heartbeat: this.#terms,
      resume: { token, windowMs: this.#sessions!.windowMs },
    };
    if (typeof outcome === "string") message.resumeFailed = outcome;
    else if (outcome !== undefined) message.resumed = outcome;
    return encodeServerMessage(message);
  }

  broadcast(data: TServer, filter?: (conn: Connection<TServer, TAuth>) => boolean): number {
    const valid = validateData(this.serverSchema, data);
    if (!valid.ok) {
      throw new HeartlineError(ServerErrorCode.InvalidPayload, `invalid payload: ${valid.message}`);
    }
    const text = encodeServerMessage({ type: "message", data });
    // A resumable session numbers each message its own way; the data is encoded once for all.
    let json: string | undefined;
    let plain = 0;
    let sent = 0;
    for (const conn of this.#live) {
      if (!conn.isOpen || (filter !== undefined && !filter(conn))) continue;
      if (conn.numbered) {
        json ??= JSON.stringify(data);
        // Counted in messagesOut by the connection itself.
        if (conn.sendNumbered(data, json)) sent++;
      } else if (conn.writeIfOpen(text)) {
        plain++;
        sent++;
      }
    }
    this.counters.messagesOut += plain;
    return sent;
  }

  *connections(): IterableIterator<Connection<TServer, TAuth>> {
    for (const conn of this.#live) if (conn.isOpen) yield conn;
  }

  stats(): ServerStats {
    const counters = this.counters;
    return {
      open: this.#open,
      accepted: this.#accepted,
      disconnects: { ...this.#disconnects },
      messagesIn: counters.messagesIn,
      messagesOut: counters.messagesOut,
      framesIn: counters.framesIn,
      framesOut: counters.framesOut,
      upgradesRejected: { ...this.#rejected },
      sessions: this.#sessionStats(),
      upgradesRejectedByReason: { ...this.#rejectedByReason },
      acceptErrors: this.#acceptErrors,
      acceptErrorEpisodes: this.#acceptErrorEpisodes,
      outboundBufferedBytes: this.outbound.total,
    };
  }

  on<E extends ServerEventName>(
    event: E,
    listener: ServerListeners<TClient, TServer, TAuth>[E],
  ): () => void {
    // Copy on write: an emit already iterating keeps its own array.
    const table = this.#listeners as Record<ServerEventName, ReadonlyArray<unknown>>;
    table[event] = [...table[event], listener];
    return () => {
      table[event] = table[event].filter((l) => l !== listener);
    };
  }

  reportRejected(rejection: UpgradeRejection, request?: RejectedRequest): void {
    this.#rejected[rejection.status] = (this.#rejected[rejection.status] ?? 0) + 1;
    this.#rejectedByReason[rejection.reason]++;
    this.#emit("upgradeRejected", rejection, request);
  }

  reportError(error: HeartlineError, conn?: Connection<TServer, TAuth>): void {
    // An `error` listener that throws: rethrown later, as for any callback (never swallowed).
    if (!this.#deliverError(error, conn)) rethrowLater(error);
  }

  reportAcceptError(cause: unknown): void {
    this.#acceptErrors++;
    if (this.#inAcceptErrorEpisode) return;
    this.#inAcceptErrorEpisode = true;
    this.#acceptErrorEpisodes++;
    this.reportError(
      new HeartlineError(
        ServerErrorCode.DescriptorsExhausted,
        "out of file descriptors accepting connections (EMFILE/ENFILE): set maxConnections below the process's limit",
        { cause },
      ),
    );
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const drainMs = options.drainMs ?? 0;
    if (!(drainMs >= 0) || !Number.isFinite(drainMs)) {
      throw new HeartlineError(ServerErrorCode.InvalidOption, "drainMs must be 0 or more");
    }
    this.#closing = new Promise<void>((resolve) => {
      this.#resolveClosing = () => {
        this.#phase = "closed";
        resolve();
      };
    });
    if (drainMs === 0) this.#sayGoodbye();
    else {
      this.#phase = "draining";
      this.options.clock.setTimeout(() => this.#sayGoodbye(), drainMs);
    }
    return this.#closing;
  }

  /** The end of the drain: goodbye and 1001 to every open client, then wait for their sockets. */
  #sayGoodbye(): void {
    this.#phase = "closing";
    this.#stopKeepAlive();
    const goodbye = encodeServerMessage({
      type: "goodbye",
      reconnect: this.options.reconnectWindow,
    });
    for (const conn of [...this.#live]) conn.goAway(goodbye);
    if (this.#live.size === 0) this.#resolveClosing!();
    else {
      this.#deadline = this.options.clock.setTimeout(() => {
        this.#deadline = undefined;
        for (const conn of [...this.#live]) conn.destroy();
      }, this.options.closeTimeoutMs);
    }
  }

  // ---- ConnectionHost: called by ServerConnection ----

  watch(conn: Conn<TClient, TServer, TAuth>): void {
    this.#deadlines.add(conn);
  }

  unwatch(conn: Conn<TClient, TServer, TAuth>): void {
    this.#deadlines.remove(conn);
  }

  connectionMessage(conn: Conn<TClient, TServer, TAuth>, data: TClient): void {
    this.#emit("message", conn, data);
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
    this.#open--;
    this.#disconnects[reason]++;
    // The window rule decides first, so the report can say; a deliberate end
    // ends the session after the report (disconnect, then sessionEnd).
    let resumable = reason === DisconnectReason.Replaced;
    let endsSession = false;
    if (session !== undefined) {
      if (sessionSurvives(reason, code)) resumable = this.#sessions!.detach(session, conn);
      else endsSession = true;
    }
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
    this.#emit("disconnect", info, conn);
    if (endsSession) this.#sessions!.end(session!, reason, conn);
  }

  queueAck(conn: Conn<TClient, TServer, TAuth>): void {
    this.#acks?.add(conn);
  }

  endSession(session: Session<TClient, TServer, TAuth>, reason: "overflow"): void {
    this.#sessions?.end(session, reason);
  }

  connectionGone(conn: Conn<TClient, TServer, TAuth>): void {
    if (this.#live.delete(conn)) this.capacity.release(conn.remoteAddress);
    if (this.#live.size === 0) {
      this.#stopKeepAlive();
      // During a drain the server stays up (refusing) for the whole drainMs, even with nobody left.
      if (this.#phase === "closing") {
        if (this.#deadline !== undefined) {
          this.options.clock.clearTimeout(this.#deadline);
          this.#deadline = undefined;
        }
        this.#resolveClosing!();
      }
    }
  }

  // ---- internals ----

  /** The store's one report of a session's end, as the `sessionEnd` event. */
  #sessionEnded(end: SessionEnd<TServer, TAuth>): void {
    this.#endedCount++;
    const undelivered: TServer[] = [];
    for (const message of end.undelivered) undelivered.push(message.data);
    this.#emit(
      "sessionEnd",
      {
        sessionId: end.sessionId,
        reason: end.reason as SessionEndReason,
        undelivered,
        auth: end.auth,
        at: end.at,
      },
      undefined,
    );
  }

  #sessionStats(): ServerStats["sessions"] {
    const store = this.#sessions;
    if (store === undefined) return { live: 0, detached: 0, resumed: 0, ended: 0 };
    const held = store.stats();
    return {
      live: held.sessions - held.detached,
      detached: held.detached,
      resumed: this.#resumedCount,
      ended: this.#endedCount,
    };
  }

  #emit<E extends ServerEventName>(
    event: E,
    a: Parameters<ServerListeners<TClient, TServer, TAuth>[E]>[0],
    b: Parameters<ServerListeners<TClient, TServer, TAuth>[E]>[1],
  ): void {
    const listeners = this.#listeners[event] as ReadonlyArray<(a: unknown, b: unknown) => void>;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(a, b);
      } catch (cause) {
        this.#listenerThrew(
          event,
          cause,
          (event === "upgradeRejected" || event === "sessionEnd"
            ? undefined
            : event === "disconnect" || event === "resume"
              ? b
              : a) as Connection<TServer, TAuth> | undefined,
        );
      }
    }
  }

  /**
   * The listener policy shared by every Heartline package (`listenerThrew`
   * in @heartline/protocol): reported on `error` as `listener_threw`, else
   * rethrown on a microtask; never swallowed, never disturbing the core.
   */
  #listenerThrew(
    event: ServerEventName,
    cause: unknown,
    conn: Connection<TServer, TAuth> | undefined,
  ): void {
    listenerThrew(
      cause,
      this.#listeners.error as Iterable<
        (error: HeartlineError, conn: Connection<TServer, TAuth> | undefined) => void
      >,
      (c) =>
        new HeartlineError(ServerErrorCode.ListenerThrew, `a "${event}" listener threw`, {
          cause: c,
        }),
      conn,
    );
  }

  /** Calls every `error` listener; false if any threw. */
  #deliverError(error: HeartlineError, conn: Connection<TServer, TAuth> | undefined): boolean {
    let delivered = true;
    for (const listener of this.#listeners.error) {
      try {
        listener(error, conn as Connection | undefined);
      } catch {
        delivered = false;
      }
    }
    return delivered;
  }

  /** A warning: to the `error` listeners if there are any, else one line on the console (never rethrown). */
  #warn(warning: HeartlineError): void {
    if (this.#listeners.error.length > 0) this.#deliverError(warning, undefined);
    else console.warn(`heartline: ${warning.message}`);
  }

  #scheduleKeepAlive(): void {
    const { clock, keepAliveIntervalMs } = this.options;
    this.#keepAliveHandle = clock.setTimeout(() => {
      this.#keepAliveHandle = undefined;
      for (const conn of this.#live) conn.keepAlive();
      if (this.#live.size > 0 && (this.#phase === "open" || this.#phase === "draining")) {
        this.#scheduleKeepAlive();
      }
    }, keepAliveIntervalMs);
  }

  #stopKeepAlive(): void {
    if (this.#keepAliveHandle !== undefined) {
      this.options.clock.clearTimeout(this.#keepAliveHandle);
      this.#keepAliveHandle = undefined;
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

import {
  CloseCode,
  DisconnectReason,
  encodeServerMessage,
  PROTOCOL_VERSION,
  type StandardSchemaV1,
  type TimerHandle,
  validateData,
} from "@heartline/protocol";
import { ServerConnection } from "./connection.js";
import { DeadlineQueue } from "./deadline-queue.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import type {
  Connection,
  DisconnectInfo,
  ServerEventName,
  ServerListeners,
  ServerStats,
  UpgradeRejection,
} from "./events.js";
import { type ResolvedCoreOptions, resolveCoreOptions, type ServerCoreOptions } from "./options.js";
import type { ConnectionInfo, ServerTransport, TransportSink } from "./transport.js";

/**
 * The transport-free server: connections, listeners, stats, broadcast and
 * shutdown. Adapters (`ws`, in-memory) hand it transports through `accept`.
 */
export interface ServerCore<TClient = unknown, TServer = unknown, TAuth = unknown> {
  /** Takes a connection whose upgrade succeeded; sends `welcome`; returns where to feed its events. */
  accept(transport: ServerTransport, info: ConnectionInfo<TAuth>): TransportSink;
  /** False once `close()` was called: adapters refuse new upgrades (503). */
  readonly accepting: boolean;
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
  /** For adapters: reports a refused upgrade (counted in stats, `upgradeRejected` event). */
  reportRejected(rejection: UpgradeRejection): void;
  /** For adapters: reports an error on the `error` event (never throws). */
  reportError(error: HeartlineError, conn?: Connection<TServer, TAuth>): void;
  /**
   * Stops accepting; sends each open client `goodbye` then 1001 (reported
   * `server_closed`); resolves when every socket is gone, destroying those
   * still there after `closeTimeoutMs`. Idempotent.
   */
  close(): Promise<void>;
}

type ListenerTable = { [E in ServerEventName]: ReadonlyArray<ServerListeners[E]> };

const NOOP_SINK: TransportSink = Object.freeze({
  receive() {},
  receiveBinary() {},
  refused() {},
  errored() {},
  closed() {},
});

function emptyDisconnectCounts(): Record<DisconnectReason, number> {
  const counts = {} as Record<DisconnectReason, number>;
  for (const reason of Object.values(DisconnectReason)) counts[reason] = 0;
  return counts;
}

export class ServerCoreImpl<TClient, TServer, TAuth>
  implements ServerCore<TClient, TServer, TAuth>
{
  readonly options: ResolvedCoreOptions;
  readonly clientSchema: StandardSchemaV1<unknown, TClient> | undefined;
  readonly serverSchema: StandardSchemaV1<unknown, TServer> | undefined;
  // Counters the connections bump directly (plain fields: no call per frame).
  framesIn = 0;
  framesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  /** The silence watch of every open connection, under one clock timer. */
  readonly deadlines: DeadlineQueue<ServerConnection<TClient, TServer, TAuth>>;
  #accepted = 0;
  #open = 0;
  readonly #disconnects = emptyDisconnectCounts();
  readonly #rejected: Record<number, number> = {};
  /** Every connection whose socket is not gone yet (open or closing). */
  readonly #live = new Set<ServerConnection<TClient, TServer, TAuth>>();
  #listeners: ListenerTable = {
    connection: [],
    message: [],
    disconnect: [],
    error: [],
    upgradeRejected: [],
  };
  readonly #terms: { intervalMs: number; timeoutMs: number };
  #keepAliveHandle: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosing: (() => void) | undefined;
  #deadline: TimerHandle | undefined;

  constructor(options: ServerCoreOptions<TClient, TServer, TAuth>) {
    this.options = resolveCoreOptions(options);
    this.deadlines = new DeadlineQueue(this.options.clock, this.options.timeoutMs);
    this.clientSchema = options.protocol?.client;
    this.serverSchema = options.protocol?.server;
    this.#terms = Object.freeze({
      intervalMs: this.options.intervalMs,
      timeoutMs: this.options.timeoutMs,
    });
    const on = options.on;
    if (on) {
      for (const name of Object.keys(this.#listeners) as ServerEventName[]) {
        const listener = on[name];
        if (listener) this.on(name, listener as never);
      }
    }
  }

  get accepting(): boolean {
    return this.#closing === undefined;
  }

  accept(transport: ServerTransport, info: ConnectionInfo<TAuth>): TransportSink {
    if (this.#closing !== undefined) {
      transport.close(CloseCode.GoingAway, DisconnectReason.ServerClosed);
      return NOOP_SINK;
    }
    const sessionId = this.options.generateSessionId();
    const conn = new ServerConnection(this, transport, sessionId, info.remoteAddress, info.auth);
    this.#live.add(conn);
    this.#accepted++;
    this.#open++;
    conn.start(
      encodeServerMessage({
        type: "welcome",
        protocol: PROTOCOL_VERSION,
        sessionId,
        heartbeat: this.#terms,
      }),
    );
    if (this.options.keepAliveIntervalMs > 0 && this.#keepAliveHandle === undefined) {
      this.#scheduleKeepAlive();
    }
    this.#emit("connection", conn, info.request);
    return conn;
  }

  broadcast(data: TServer, filter?: (conn: Connection<TServer, TAuth>) => boolean): number {
    const valid = validateData(this.serverSchema, data);
    if (!valid.ok) {
      throw new HeartlineError(ServerErrorCode.InvalidPayload, `invalid payload: ${valid.message}`);
    }
    const text = encodeServerMessage({ type: "message", data });
    let sent = 0;
    for (const conn of this.#live) {
      if (!conn.isOpen || (filter !== undefined && !filter(conn))) continue;
      if (conn.writeIfOpen(text)) sent++;
    }
    this.messagesOut += sent;
    return sent;
  }

  *connections(): IterableIterator<Connection<TServer, TAuth>> {
    for (const conn of this.#live) if (conn.isOpen) yield conn;
  }

  stats(): ServerStats {
    return {
      open: this.#open,
      accepted: this.#accepted,
      disconnects: { ...this.#disconnects },
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      upgradesRejected: { ...this.#rejected },
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

  reportRejected(rejection: UpgradeRejection): void {
    this.#rejected[rejection.status] = (this.#rejected[rejection.status] ?? 0) + 1;
    this.#emit("upgradeRejected", rejection, undefined);
  }

  reportError(error: HeartlineError, conn?: Connection<TServer, TAuth>): void {
    for (const listener of this.#listeners.error) {
      try {
        listener(error, conn as Connection | undefined);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise((resolve) => {
      this.#resolveClosing = resolve;
    });
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
    return this.#closing;
  }

  // ---- called by ServerConnection ----

  emitMessage(conn: ServerConnection<TClient, TServer, TAuth>, data: TClient): void {
    this.#emit("message", conn, data);
  }

  connectionEnded(
    conn: ServerConnection<TClient, TServer, TAuth>,
    reason: DisconnectReason,
    code: number | undefined,
  ): void {
    this.#open--;
    this.#disconnects[reason]++;
    const info: DisconnectInfo<TAuth> =
      code === undefined
        ? {
            sessionId: conn.sessionId,
            reason,
            lastSeenAt: conn.lastSeenAt,
            connectedAt: conn.connectedAt,
            auth: conn.auth,
          }
        : {
            sessionId: conn.sessionId,
            reason,
            code,
            lastSeenAt: conn.lastSeenAt,
            connectedAt: conn.connectedAt,
            auth: conn.auth,
          };
    this.#emit("disconnect", info, conn);
  }

  connectionGone(conn: ServerConnection<TClient, TServer, TAuth>): void {
    this.#live.delete(conn);
    if (this.#live.size === 0) {
      this.#stopKeepAlive();
      if (this.#resolveClosing !== undefined) {
        if (this.#deadline !== undefined) {
          this.options.clock.clearTimeout(this.#deadline);
          this.#deadline = undefined;
        }
        this.#resolveClosing();
      }
    }
  }

  // ---- internals ----

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
        // An application bug must not crash the server nor strand the connection.
        this.reportError(
          new HeartlineError(ServerErrorCode.ListenerThrew, `a "${event}" listener threw`, {
            cause,
          }),
          (event === "upgradeRejected" ? undefined : event === "disconnect" ? b : a) as
            | Connection<TServer, TAuth>
            | undefined,
        );
      }
    }
  }

  #scheduleKeepAlive(): void {
    const { clock, keepAliveIntervalMs } = this.options;
    this.#keepAliveHandle = clock.setTimeout(() => {
      this.#keepAliveHandle = undefined;
      for (const conn of this.#live) conn.keepAlive();
      if (this.#live.size > 0 && this.#closing === undefined) this.#scheduleKeepAlive();
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
export function createServerCore<TClient = unknown, TServer = unknown, TAuth = unknown>(
  options: ServerCoreOptions<TClient, TServer, TAuth> = {},
): ServerCore<TClient, TServer, TAuth> {
  return new ServerCoreImpl(options);
}

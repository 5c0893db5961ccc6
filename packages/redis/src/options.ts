import type { Clock } from "@heartline/protocol";
import type { PresenceError } from "./errors.js";
import type { PresenceEntry } from "./events.js";
import type { RedisClient } from "./redis-client.js";

/**
 * Defaults of `attachPresence` and `createPresenceReader`.
 *
 * - `keyPrefix` "{heartline}:": a Redis Cluster hash tag, so every presence key
 *   hashes to one slot (the scripts touch several keys at once). Use your own
 *   tag per application/environment, e.g. "{chat-prod}:".
 * - `nodeTtlMs` 10 000: a node that has not refreshed its heartbeat key for this
 *   long is lost; its connections are reported `node_lost`.
 * - `nodeHeartbeatMs`: the refresh period, `nodeTtlMs / 3` when not given, so
 *   two refreshes may fail before the key lapses.
 * - `maxBuffered` 10 000: presence changes kept while Redis is unreachable;
 *   past it the oldest are dropped (and reported). Infinity: no bound.
 * - `orphanWindowMs` 0: a lost (or closed) node's resumable sessions are
 *   reported `node_lost` at its reap, like its plain connections: right for
 *   the server's in-process session store, whose sessions die with their
 *   process. With a shared session store (sessions outlive their process),
 *   set it to the server's `resume.windowMs`: they stay online until a
 *   survivor adopts them or their client resumes elsewhere, and are
 *   reported `node_lost` only if neither happens within it.
 */
export const presenceDefaults = Object.freeze({
  keyPrefix: "{heartline}:",
  nodeTtlMs: 10_000,
  maxBuffered: 10_000,
  orphanWindowMs: 0,
});

/** Events of an attached presence, also given up front through `on`. */
export interface PresenceListeners {
  /** A write, heartbeat or reap failed; presence keeps buffering and retries. */
  error?: (err: PresenceError) => void;
  /** Changes were dropped from the full buffer; once per outage, then again only after a resync. */
  overflow?: (info: { readonly dropped: number; readonly buffered: number }) => void;
  /** The node's set was rewritten in Redis (at start, after an outage, an overflow or being reaped). */
  resync?: (info: {
    readonly added: number;
    readonly removed: number;
    readonly droppedBefore: number;
  }) => void;
  /**
   * This node reaped a lost node: `connections` reported `node_lost`,
   * `sessions` (resumable) orphaned, left online for a survivor to adopt
   * (only with the lost node's `orphanWindowMs` above 0).
   */
  reap?: (info: {
    readonly nodeId: string;
    readonly connections: number;
    readonly sessions: number;
  }) => void;
  /**
   * The link to Redis changed: `connected` (commands flow), `disconnected`
   * (Redis unreachable: changes are buffered, the node is not refreshing its
   * heartbeat), `closed` (`presence.close()`). Once per change, so an outage
   * is one `disconnected` and one `connected`, whatever ioredis retries.
   */
  state?: (info: {
    readonly state: PresenceState;
    readonly previous: PresenceState;
    /** Buffered changes at the moment of the change. */
    readonly buffered: number;
  }) => void;
}

/** Where this node's link to Redis stands; see the `state` event. */
export type PresenceState = "connecting" | "connected" | "disconnected" | "closed";

/** What presence needs from a connection: the server's `connection` event argument. */
export interface PresenceConnection {
  readonly sessionId: string;
  readonly connectedAt: number;
  /**
   * True when the connection carries a resumable session (the Heartline
   * server's `conn.resumable`): presence then follows the session, not the
   * socket. Absent or false: a plain v1 connection, followed as a socket.
   */
  readonly resumable?: boolean;
}

/** The server's `sessionEnd` event, as presence reads it: the session's one end, cluster-wide. */
export interface PresenceSessionEnd {
  readonly sessionId: string;
  /** `expired`, `client_closed`, `server_closed`, `evicted`, `overflow`, … */
  readonly reason: string;
  /** Clock time of the end. */
  readonly at?: number | undefined;
}

/** The server's `sessionMoved` event: the session left this process (resumed elsewhere, or fenced). */
export interface PresenceSessionMoved {
  readonly sessionId: string;
}

/** The server's `sessionAdopted` event: this process adopted a lost process's session. */
export interface PresenceSessionAdopted {
  readonly sessionId: string;
  /** The lost process's node id (the same as its presence `nodeId`). */
  readonly from: string;
}

/** What presence needs from the server's `disconnect` report. */
export interface PresenceDisconnectReport {
  readonly sessionId: string;
  readonly reason: string;
  readonly code?: number | undefined;
  readonly lastSeenAt?: number | undefined;
}

/**
 * The slice of a Heartline server presence listens to (no `ws` here). `on` may
 * return an unsubscribe function (the Heartline server's does); `connections()`,
 * when there, lets presence record connections accepted before it was attached.
 *
 * Presence also listens, when the source has them, to `sessionEnd`
 * (`PresenceSessionEnd`), `sessionMoved` (`PresenceSessionMoved`) and
 * `sessionAdopted` (`PresenceSessionAdopted`); an `on` that throws for an
 * event it does not know (a server older than these events) is taken to
 * never emit it. They matter only for connections with `resumable: true`.
 */
export interface PresenceSource<TConn extends PresenceConnection> {
  // NoInfer: the connection type is read from `connections()`, so that
  // `identify: (conn) => conn.auth.userId` is typed by the server's own
  // `authenticate` result; the server's generic `on` would infer nothing.
  /** Called for each accepted connection. */
  on(event: "connection", listener: (conn: NoInfer<TConn>) => void): unknown;
  /** Called once when each connection ends. */
  on(event: "disconnect", listener: (report: PresenceDisconnectReport) => void): unknown;
  /** The connections open now, recorded when presence attaches. */
  connections?(): Iterable<TConn>;
}

/** `attachPresence`'s options; defaults are in `presenceDefaults`. */
export interface AttachPresenceOptions<TConn extends PresenceConnection> {
  /** A connected ioredis client (Redis, Sentinel or Cluster): see `RedisClient`. Presence never closes it. */
  redis: RedisClient;
  /** The application's identity for a connection, e.g. `(conn) => conn.auth.userId`. */
  identify: (conn: TConn) => string;
  /** This node's id, unique in the cluster. Default: hostname, pid and a random suffix. */
  nodeId?: string;
  nodeTtlMs?: number;
  nodeHeartbeatMs?: number;
  keyPrefix?: string;
  maxBuffered?: number;
  /**
   * How long a lost or closed node's resumable sessions stay online, from its
   * reap, for a survivor to adopt them (`sessionAdopted`) or their client to
   * resume elsewhere; then `node_lost`. 0 (default): reported at the reap.
   * Set it to the server's `resume.windowMs` with a shared session store.
   */
  orphanWindowMs?: number;
  /** Timers for the node heartbeat and retries, and the orphans' deadlines. Default `systemClock`. */
  clock?: Clock;
  on?: PresenceListeners;
}

/** `createPresenceReader`'s options. */
export interface PresenceReaderOptions {
  redis: RedisClient;
  keyPrefix?: string;
  /** Listeners: `error` for a failed read of the events channel. */
  on?: {
    /** A failed read of the events channel. */
    error?: (err: PresenceError) => void;
  };
}

/** `presence.stats()`: this node's counters. */
export interface PresenceStats {
  readonly nodeId: string;
  /** Connections this node holds. */
  readonly local: number;
  /** Changes waiting to be written. */
  readonly buffered: number;
  /** Changes dropped from the full buffer since start. */
  readonly dropped: number;
  readonly resyncs: number;
  /** Node heartbeats (refresh and reap) that succeeded. */
  readonly heartbeats: number;
  readonly writeErrors: number;
  /** Orphaned resumable sessions this node reported `node_lost` (their window passed unadopted). */
  readonly orphansLost: number;
  /** Whether the node is registered in Redis as far as it knows. */
  readonly registered: boolean;
  /** The link to Redis now. */
  readonly state: PresenceState;
  /** Times the link went from `connected` to `disconnected` since start. */
  readonly outages: number;
}

export type { PresenceEntry };

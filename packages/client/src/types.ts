import type {
  DisconnectReason,
  HeartbeatTerms,
  RateTerms,
  ResumeFailure,
} from "@heartline/protocol";
import type { HeartlineClientError } from "./errors.js";

/**
 * - `closed`: before `connect()`, after `close()`, or after giving up.
 * - `connecting`: the first connection since `connect()`, until `welcome`.
 * - `open`: `welcome` received; heartbeat running; `send` goes straight out.
 * - `reconnecting`: a connection ended (or failed) and another is on its way,
 *   from the backoff wait until the next `welcome`.
 */
export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * Why a connection or attempt ended: the contract's reasons, plus two only a
 * client has:
 * - `refused`: the server answered the upgrade with an HTTP status (in
 *   `status`), where the runtime shows it (Node's `ws`; a browser never
 *   does: it sees 1006, `connection_lost`). A 401 is `unauthorized`.
 * - `open_failed`: the attempt never reached the network: `url` or
 *   `credentials` threw or rejected, the credentials have characters a
 *   subprotocol cannot carry, or `new WebSocket` threw (`error` says which).
 */
export type ClientDisconnectReason = DisconnectReason | "refused" | "open_failed";

/** The `disconnect` event's payload: once for every connection or attempt that ends. */
export interface DisconnectEvent {
  /** Why the connection (or connection attempt) ended; see the README table. */
  reason: ClientDisconnectReason;
  /** The close code, when there was one (the server's, or the one the client closed with). */
  code?: number;
  /** The HTTP status of a refused upgrade (`refused`, `unauthorized`), where the runtime shows it. */
  status?: number;
  /** Whether another attempt is scheduled (false after `close()`, a final close code or `maxAttempts`). */
  willReconnect: boolean;
  /**
   * The next attempt will offer to resume this session (the client holds its
   * token): if the server accepts, the session continues with nothing lost.
   */
  willResume: boolean;
  /** The wait before the next attempt, when `willReconnect`. */
  delayMs?: number;
  /**
   * How long detecting a dead server took, when the client itself ended the
   * connection for silence (`timeout`, code 4000 closed by the client): from
   * the last frame heard (or the heartbeat's `resume()`) to the verdict.
   * `timeoutMs` when the timer ran on time; more when a throttled or frozen
   * page checked late. Absent for every other disconnect.
   */
  detectedAfterMs?: number;
}

/** A connection continued the session of the previous one (see "Resumable sessions" in the README). */
export interface ResumedEvent {
  /** The same session id as before the drop. */
  sessionId: string;
  /** From the previous connection's `disconnect` to this `welcome`. */
  gapMs: number;
  /** Messages the client sent again (those the server had not received). */
  replayed: number;
}

/**
 * Messages that will not be delivered, with their data (oldest first) and
 * why: the one report for every message an application gave `send` and the
 * server will not get. Never emitted with none.
 * - `overflow`, `invalid`, `not_connected`: `send` refused this one message
 *   (it returned false): the outbox was full; the data failed
 *   `protocol.client` or is not JSON; the client was closed. `error` is the
 *   `HeartlineClientError` also emitted on `error`, whose `.data` path is
 *   the older way to learn of them (deprecated for that use).
 * - `resume_failed`: the server refused the resume (`resumeFailed` says why;
 *   absent when the server answered without resumption at all) and started a
 *   new session: these were sent and never acknowledged.
 * - `closed`: the client closed for good (by `close()`, or after a final
 *   disconnect) holding them: sent and unacknowledged (they may have
 *   arrived: only the server's ack would have said so), then queued and
 *   never sent (also reported one by one as `error` `outbox_discarded`,
 *   deprecated).
 * - `rate_limited`: the server closed the connection with 4429, which ends
 *   the session (a deliberate end): these were sent and never acknowledged.
 *   The client then starts a new session after its backoff.
 */
export interface UndeliveredEvent<TClientData = unknown> {
  reason: "resume_failed" | "overflow" | "invalid" | "not_connected" | "closed" | "rate_limited";
  resumeFailed?: ResumeFailure;
  messages: TClientData[];
  /** For a refused `send`: the error also emitted on `error`. */
  error?: HeartlineClientError;
}

/** Each client event's payload, by event name (`client.on(name, listener)`). */
export interface ClientEvents<TServerData = unknown, TClientData = unknown> {
  /** The state changed; `previous` is the one it left. */
  state: { state: ClientState; previous: ClientState };
  /** `resumed`: this connection continues the previous one's session (a `resumed` event follows). */
  open: {
    sessionId: string;
    heartbeat: HeartbeatTerms;
    /** The server's rate terms (`welcome.rate`), which the client paces its frames to; absent when it has no limit. */
    rate?: RateTerms;
    resumed: boolean;
    /**
     * The server refused to resume (why, as `welcome.resumeFailed`): this is
     * a new session, and the old one, with what it held, is gone.
     */
    resumeFailed?: ResumeFailure;
  };
  /** This connection continued the previous one's session. */
  resumed: ResumedEvent;
  /** Accepted messages that cannot be delivered, with their data. */
  undelivered: UndeliveredEvent<TClientData>;
  /** An application message's `data`, validated against `protocol.server`. */
  message: TServerData;
  /** A pong answered ping `seq` after `rttMs`. */
  pong: { seq: number; rttMs: number };
  /** Something was refused or failed; `error.code` says what (`ClientErrorCode`). */
  error: HeartlineClientError;
  /** A connection or attempt ended, with its reason. */
  disconnect: DisconnectEvent;
  /** A retry is scheduled in `delayMs` (attempt `attempt`, from 0). */
  reconnecting: { attempt: number; delayMs: number };
}

/** Ping → pong round-trip times of the current connection. */
export interface RoundTripTime {
  /** The last measured ping → pong time, or undefined before the first pong. */
  latestMs: number | undefined;
  /** Smoothed as TCP's SRTT (EWMA, α = 1/8); undefined before the first pong. */
  smoothedMs: number | undefined;
}

/** Counters and times of the client (`client.stats`). */
export interface ClientStats {
  /** Pings sent, over every connection. */
  pingsSent: number;
  /** Pongs received, over every connection. */
  pongsReceived: number;
  /** Clock time of the last frame from the server, if any. */
  lastHeardAt: number | undefined;
  /** Clock time of the last ping sent, if any. */
  lastPingAt: number | undefined;
  /**
   * Pings that got no pong before the next ping or the end of their
   * connection (a late pong still gives an RTT sample). An early ping from a
   * page-life check closes the previous beat's window too.
   */
  missedBeats: number;
  /** Reconnect attempts since the connection was last stable (or `connect()`): the current streak. */
  reconnectAttempt: number;
  /** Every reconnect attempt since the client was created. */
  reconnectAttemptsTotal: number;
  /** Messages waiting in the outbox. */
  queued: number;
  /** Messages sent on a resumable session and not acknowledged yet (they count toward `outbox.maxUnackedMessages`). */
  unacked: number;
}

/** The heartbeat's terms and the pause switch (`client.heartbeat`). */
export interface HeartbeatControl {
  /** The server's terms for the current (or last) connection. */
  readonly terms: HeartbeatTerms | undefined;
  /** Whether `pause()` is in effect. */
  readonly paused: boolean;
  /**
   * Stops sending pings (and stops the client's own silence check, so the
   * server's verdict, close 4000, is what you see). Lasts across reconnects
   * until `resume()`. For demos and tests.
   */
  pause(): void;
  /** Starts pinging again, with a ping now and a fresh silence deadline. */
  resume(): void;
}

/**
 * Everything a UI renders about the connection, as one immutable object
 * (`client.getSnapshot()`). A new object only when a field changed, so
 * `snapshot === previous` means "nothing to render".
 */
export interface ClientSnapshot {
  readonly state: ClientState;
  /** Why the last connection (or attempt) ended; undefined while open and before the first end. */
  readonly reason: ClientDisconnectReason | undefined;
  /** The close code of that end, when there was one. */
  readonly code: number | undefined;
  /** Another attempt is coming (the last end's `willReconnect`); false while open. */
  readonly willReconnect: boolean;
  /** Clock time (ms) of the next attempt while the backoff wait runs; undefined otherwise. */
  readonly retryAt: number | undefined;
  /** Reconnect attempts in the current streak (`stats.reconnectAttempt`). */
  readonly attempt: number;
  /** The current (or last) session id. */
  readonly sessionId: string | undefined;
  /** The current (or last) connection continued the session before it. */
  readonly resumed: boolean;
  /** Why the last `welcome` refused to resume (the old session and what it held were lost); else undefined. */
  readonly resumeFailed: ResumeFailure | undefined;
  /** The smoothed round-trip time in whole ms; undefined before this connection's first pong. */
  readonly rtt: number | undefined;
  /** Messages waiting in the outbox (`stats.queued`). */
  readonly queued: number;
  /** Messages sent and not acknowledged yet (`stats.unacked`). */
  readonly unacked: number;
}

/** What `createClient` returns. */
export interface HeartlineClient<TClientData = unknown, TServerData = unknown> {
  /** The current state; see `ClientState`. */
  readonly state: ClientState;
  /** The current (or last) session id from `welcome`. */
  readonly sessionId: string | undefined;
  /** The latest and smoothed round-trip times. */
  readonly rtt: RoundTripTime;
  /** Counters and times. */
  readonly stats: ClientStats;
  /** The server's heartbeat terms, and pause/resume. */
  readonly heartbeat: HeartbeatControl;
  /** Opens the connection. Does nothing unless the state is `closed`. */
  connect(): void;
  /**
   * Sends an application message: straight out when `open`, otherwise queued
   * in the outbox until the next `welcome`. Returns false (and emits `error`)
   * when the data is refused: invalid, outbox full, or client closed.
   */
  send(data: TClientData): boolean;
  /** Closes for good (no reconnect); default code 1000. `connect()` may start again later. */
  close(code?: number, reason?: string): void;
  /**
   * The connection's status as one immutable object; the same object until
   * something in it changes. For React: `useSyncExternalStore(client.subscribe, client.getSnapshot)`.
   */
  getSnapshot(): ClientSnapshot;
  /**
   * Calls `listener` (no arguments) whenever `getSnapshot()` would return a
   * new object; returns the function that stops it.
   */
  subscribe(listener: () => void): () => void;
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ClientEvents<TServerData, TClientData>>(
    event: K,
    listener: (payload: ClientEvents<TServerData, TClientData>[K]) => void,
  ): () => void;
}

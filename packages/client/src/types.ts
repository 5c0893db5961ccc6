import type { DisconnectReason, HeartbeatTerms } from "@heartline/protocol";
import type { HeartlineClientError } from "./errors.js";

/**
 * - `closed`: before `connect()`, after `close()`, or after giving up.
 * - `connecting`: the first connection since `connect()`, until `welcome`.
 * - `open`: `welcome` received; heartbeat running; `send` goes straight out.
 * - `reconnecting`: a connection ended (or failed) and another is on its way,
 *   from the backoff wait until the next `welcome`.
 */
export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

/** The `disconnect` event's payload: once for every connection or attempt that ends. */
export interface DisconnectEvent {
  /** Why the connection (or connection attempt) ended; see the README table. */
  reason: DisconnectReason;
  /** The close code, when there was one (the server's, or the one the client closed with). */
  code?: number;
  /** Whether another attempt is scheduled (false after `close()`, a final close code or `maxAttempts`). */
  willReconnect: boolean;
  /** The wait before the next attempt, when `willReconnect`. */
  delayMs?: number;
}

/** Each client event's payload, by event name (`client.on(name, listener)`). */
export interface ClientEvents<TServerData = unknown> {
  /** The state changed; `previous` is the one it left. */
  state: { state: ClientState; previous: ClientState };
  /** `welcome` arrived: the session id and the server's heartbeat terms. */
  open: { sessionId: string; heartbeat: HeartbeatTerms };
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
  /** Reconnect attempts since the connection was last stable. */
  reconnectAttempt: number;
  /** Messages waiting in the outbox. */
  queued: number;
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
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ClientEvents<TServerData>>(
    event: K,
    listener: (payload: ClientEvents<TServerData>[K]) => void,
  ): () => void;
}

import { LISTENER_THREW } from "@heartline/protocol";

/** Stable codes of the errors this package reports. */
export const PresenceErrorCode = {
  /** A presence write or the node heartbeat failed (Redis unreachable, a script error). */
  RedisWrite: "presence_redis_write",
  /** Pending presence changes passed `maxBuffered` while Redis was unreachable; the oldest were dropped. */
  BufferOverflow: "presence_buffer_overflow",
  /** `identify(conn)` threw; that connection is not recorded. */
  Identify: "presence_identify_failed",
  /** A message on the events channel could not be read. */
  BadEvent: "presence_bad_event",
  /** An option is out of range. */
  InvalidOption: "presence_invalid_option",
  /** The presence handle or reader was closed. */
  Closed: "presence_closed",
  /**
   * An application listener (`on`, `subscribe`, `onGap`) threw; the throw is in
   * `cause`. The same code in every Heartline package (hence no `presence_` prefix).
   */
  ListenerThrew: LISTENER_THREW,
} as const;
export type PresenceErrorCode = (typeof PresenceErrorCode)[keyof typeof PresenceErrorCode];

/** Every error this package reports or throws carries a stable `code`. */
export class PresenceError extends Error {
  readonly code: PresenceErrorCode;

  constructor(code: PresenceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PresenceError";
    this.code = code;
  }
}

/** Stable codes of the errors the Redis session store (`createRedisSessionStore`) reports or throws. */
export const SessionStoreErrorCode = {
  /** An option is out of range (thrown by `createRedisSessionStore`). */
  InvalidOption: "session_store_invalid_option",
  /** A batch of writes (journal, detach, end) or a node heartbeat failed; retried when Redis is back. */
  RedisWrite: "session_store_redis_write",
  /** A record in Redis could not be read (not written by this store, or corrupted); treated as unknown. */
  BadRecord: "session_store_bad_record",
  /** This node's lease had lapsed (presumed dead): its sessions were handed to survivors; it re-registers. */
  LeaseLost: "session_store_lease_lost",
  /** `start` was called twice, or a call came after `shutdown`. */
  Closed: "session_store_closed",
  /** An application listener (`onError`) threw; the throw is in `cause`. */
  ListenerThrew: LISTENER_THREW,
} as const;
export type SessionStoreErrorCode =
  (typeof SessionStoreErrorCode)[keyof typeof SessionStoreErrorCode];

/** An error of the Redis session store, with its stable `code`. */
export class SessionStoreError extends Error {
  readonly code: SessionStoreErrorCode;

  constructor(code: SessionStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SessionStoreError";
    this.code = code;
  }
}

import { ACK_EVERY_MESSAGES } from "@heartline/protocol";

/**
 * The defaults of the server's `resume` option (resumption itself is off
 * unless the option is given; these are the values used when it is on).
 * Read with `??`, so 0 means 0. Also reachable as `serverDefaults.resume`.
 */
export const resumeDefaults = Object.freeze({
  /** How long a dropped session stays resumable: the contract's example window, 2 minutes. */
  windowMs: 120_000,
  /**
   * Messages the server holds unacknowledged per session. A client acks at
   * least every 32 messages or one heartbeat interval, so a healthy session
   * holds a few dozen; 1,000 covers a 2X silence plus a window of a busy
   * session's sends. Past it the session ends with "overflow", reported
   * with the messages' data.
   */
  maxUnackedMessages: 1000,
  /** Bytes (UTF-8 text of the frames) the server holds unacknowledged per session: 1 MiB, as the outbound bound. */
  maxUnackedBytes: 1_048_576,
  /**
   * Bytes held unacknowledged across all sessions: 64 MiB. A push that
   * would pass it is refused like one past the session's own bound.
   */
  maxUnackedBytesTotal: 67_108_864,
  /**
   * Resumable sessions held at once (attached or in their window). At the
   * bound a new connection is served as plain v1: its welcome has no
   * `resume`, so its client knows; sessions already promised are kept.
   */
  maxSessions: 100_000,
  /**
   * @deprecated `ACK_EVERY_MESSAGES` from `@heartline/protocol`, the one
   * home of the contract's ack cadence (both sides read it there).
   */
  ackEveryMessages: ACK_EVERY_MESSAGES,
});

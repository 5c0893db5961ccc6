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
   * bound a waiting session gives way to a new one by the eviction rule
   * (reported `evicted`); when none waits, the new connection is served as
   * plain v1 (no `resume` in its welcome, so its client knows).
   */
  maxSessions: 100_000,
  /**
   * Sessions waiting for their client (dropped, window running) from one
   * address: 1,000, a hundredth of the table, so one address cannot fill
   * it (a client opening and dropping connections in a loop only evicts
   * its own oldest). Behind a proxy, name the client's address with
   * `addressOf`; behind a NAT shared by more clients, raise it.
   */
  maxWaitingPerAddress: 1000,
  /**
   * Sessions waiting for their client per `clientOf` key (a signed-in
   * user): 100, ample for one person's tabs and devices. No bound without `clientOf`.
   */
  maxWaitingPerClient: 100,
  /**
   * A receiver acks once this many received messages are unacknowledged,
   * and otherwise at the latest one heartbeat interval after a message
   * (the interval is the heartbeat's `intervalMs`, not an option of its own).
   * Fixed by the contract, so not an option.
   */
  ackEveryMessages: ACK_EVERY_MESSAGES,
});

import type { DisconnectReason } from "@heartline/protocol";
import type { SessionStats } from "./resume/resume-api.js";
import type { UpgradeRejectReason } from "./upgrade-rejection.js";

/** Live counters; `stats()` returns a copy. */
export interface ServerStats {
  /** Connections accepted and not yet ended. */
  readonly open: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  readonly disconnects: Readonly<Record<DisconnectReason, number>>;
  /** Application messages received (valid ones) and sent. */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Every data frame received and sent (pings, pongs, errors… included). */
  readonly framesIn: number;
  readonly framesOut: number;
  /** Refused upgrades by HTTP status. */
  readonly upgradesRejected: Readonly<Record<number, number>>;
  /** Resumable sessions (all zero with resumption off). */
  readonly sessions: SessionStats;
  /** Refused upgrades by reason (`server_full`, `address_limit`, `authenticate_timeout`…). */
  readonly upgradesRejectedByReason: Readonly<Record<UpgradeRejectReason, number>>;
  /** Accepts that failed for want of file descriptors (EMFILE/ENFILE), and the episodes they came in. */
  readonly acceptErrors: number;
  readonly acceptErrorEpisodes: number;
  /**
   * Outbound bytes queued across connections as `maxBufferedBytesTotal`
   * counts them (each connection's last-counted share: stale high at most,
   * never low). Never above the budget once a send has returned.
   */
  readonly outboundBufferedBytes: number;
}

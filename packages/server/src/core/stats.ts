import type { DisconnectReason } from "@heartline/protocol";
import type { SessionStats } from "./resume/resume-api.js";

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
}

import { DisconnectReason } from "@heartline/protocol";
import type { TrafficCounters } from "./connection-host.js";
import type { SessionStats } from "./resume/resume-api.js";
import type { ServerStats } from "./stats.js";
import { type UpgradeRejection, UpgradeRejectReason } from "./upgrade-rejection.js";

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  const counts = {} as Record<K, number>;
  for (const key of keys) counts[key] = 0;
  return counts;
}

/**
 * The server's counters that are not per frame (those are `TrafficCounters`,
 * bumped by the connections directly): accepts, disconnects by reason,
 * refusals by status and by reason, accept errors and their episodes.
 * `snapshot` makes the `stats()` copy.
 */
export class StatsLedger {
  accepted = 0;
  open = 0;
  acceptErrors = 0;
  acceptErrorEpisodes = 0;
  /** Within an episode of accept errors (EMFILE/ENFILE): it ends at the next accept. */
  inAcceptErrorEpisode = false;
  readonly disconnects = zeroes(Object.values(DisconnectReason));
  readonly rejected: Record<number, number> = {};
  readonly rejectedByReason = zeroes(Object.values(UpgradeRejectReason));

  connected(): void {
    this.inAcceptErrorEpisode = false;
    this.accepted++;
    this.open++;
  }

  disconnected(reason: DisconnectReason): void {
    this.open--;
    this.disconnects[reason]++;
  }

  refused(rejection: UpgradeRejection): void {
    this.rejected[rejection.status] = (this.rejected[rejection.status] ?? 0) + 1;
    this.rejectedByReason[rejection.reason]++;
  }

  /** One more accept error; true when it starts an episode (the one to report). */
  acceptFailed(): boolean {
    this.acceptErrors++;
    if (this.inAcceptErrorEpisode) return false;
    this.inAcceptErrorEpisode = true;
    this.acceptErrorEpisodes++;
    return true;
  }

  snapshot(traffic: TrafficCounters, sessions: SessionStats, outboundBytes: number): ServerStats {
    return {
      open: this.open,
      accepted: this.accepted,
      disconnects: { ...this.disconnects },
      messagesIn: traffic.messagesIn,
      messagesOut: traffic.messagesOut,
      framesIn: traffic.framesIn,
      framesOut: traffic.framesOut,
      upgradesRejected: { ...this.rejected },
      sessions,
      upgradesRejectedByReason: { ...this.rejectedByReason },
      acceptErrors: this.acceptErrors,
      acceptErrorEpisodes: this.acceptErrorEpisodes,
      outboundBufferedBytes: outboundBytes,
    };
  }
}

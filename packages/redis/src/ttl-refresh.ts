import type { Clock } from "@heartline/protocol";
import { SlicedSweep } from "@heartline/server";
import type { BatchOp, BatchReply } from "./session-batch.js";

/** What the refresh asks of the store that runs it. */
export interface TtlRefreshHost<S> {
  readonly clock: Clock;
  /** Every session hosted here, live (a Map's `values()`: it sees additions and removals). */
  sessions(): IterableIterator<S>;
  /** How many that is. */
  count(): number;
  /** The ops that refresh `session`'s keys, or none when it needs none now (not attached). */
  opsFor(session: S): readonly BatchOp[] | undefined;
  /** Whether the client can send now. */
  linkUp(): boolean;
  /** One round trip. */
  batch(ops: readonly BatchOp[]): Promise<BatchReply[]>;
  /** A failed refresh (the keys' TTLs leave a window of slack: the next pass tries again). */
  failed(error: unknown): void;
}

/**
 * The TTL refresh of the sessions attached here, spread over its period.
 *
 * Every attached session's keys are refreshed at least once per `periodMs`
 * (half a window: their TTL is two windows and two leases, so one missed
 * pass costs nothing). Refreshing them all at once made one pipeline of two
 * commands per session: at 14,000 sessions a process's event loop was held
 * for about a second building it and reading its replies, and every ping
 * that arrived meanwhile was heard that much late (issue 26). So the
 * server's `SlicedSweep` steps through the sessions, a slice every 250 ms
 * sized so that a pass takes one period: at 14,000 sessions and a 60 s
 * period, 59 sessions (118 commands) a step, in one round trip. A step
 * whose previous round trip is still out is skipped (a slow Redis never
 * gets a pile of them).
 */
export class TtlRefresh<S> {
  readonly #sweep: SlicedSweep<S>;
  #inFlight = false;

  constructor(host: TtlRefreshHost<S>, periodMs: number) {
    this.#sweep = new SlicedSweep<S>({
      clock: host.clock,
      periodMs,
      items: () => host.sessions(),
      count: () => host.count(),
      ready: () => !this.#inFlight && host.linkUp(),
      visit: (slice) => {
        const ops: BatchOp[] = [];
        for (const s of slice) {
          const more = host.opsFor(s);
          if (more !== undefined) ops.push(...more);
        }
        if (ops.length === 0) return;
        this.#inFlight = true;
        host
          .batch(ops)
          .then((replies) => {
            const bad = replies.find((r) => !r.ok);
            if (bad !== undefined && !bad.ok) host.failed(bad.error);
          })
          .catch((error: unknown) => host.failed(error))
          .finally(() => {
            this.#inFlight = false;
          });
      },
    });
  }

  /** Starts the one timer. */
  start(): void {
    this.#sweep.start();
  }

  stop(): void {
    this.#sweep.stop();
  }
}

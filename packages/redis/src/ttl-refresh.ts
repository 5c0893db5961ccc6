import type { Clock, TimerHandle } from "@heartline/protocol";
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
 * that arrived meanwhile was heard that much late (issue 26). So one timer
 * steps through the sessions with a cursor, a slice every `stepMs`, sized so
 * that a pass takes one period: at 14,000 sessions and a 60 s period, 59
 * sessions (118 commands) every 250 ms. A step whose previous round trip is
 * still out is skipped (a slow Redis never gets a pile of them).
 */
export class TtlRefresh<S> {
  readonly #stepMs: number;
  #cursor: IterableIterator<S> | undefined;
  #timer: TimerHandle | undefined;
  #inFlight = false;
  #stopped = false;

  constructor(
    private readonly host: TtlRefreshHost<S>,
    private readonly periodMs: number,
  ) {
    this.#stepMs = Math.max(1, Math.min(250, Math.floor(periodMs / 4)));
  }

  /** Starts the one timer. */
  start(): void {
    const step = (): void => {
      if (this.#stopped) return;
      this.#timer = this.host.clock.setTimeout(step, this.#stepMs);
      this.step();
    };
    this.#timer = this.host.clock.setTimeout(step, this.#stepMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Refreshes the next slice (exported for the tests' sake only through `start`). */
  step(): void {
    const h = this.host;
    if (this.#inFlight || !h.linkUp()) return;
    const total = h.count();
    if (total === 0) return;
    // A whole pass per period, however many steps it has.
    const quota = Math.ceil((total * this.#stepMs) / this.periodMs);
    const ops: BatchOp[] = [];
    let visited = 0;
    let restarted = false;
    while (visited < quota) {
      this.#cursor ??= h.sessions();
      const next = this.#cursor.next();
      if (next.done === true) {
        this.#cursor = undefined;
        // One pass per step at most: a short list is not gone over twice.
        if (restarted) break;
        restarted = true;
        continue;
      }
      visited++;
      const more = h.opsFor(next.value);
      if (more !== undefined) ops.push(...more);
    }
    if (ops.length === 0) return;
    this.#inFlight = true;
    h.batch(ops)
      .then((replies) => {
        const bad = replies.find((r) => !r.ok);
        if (bad !== undefined && !bad.ok) h.failed(bad.error);
      })
      .catch((error: unknown) => h.failed(error))
      .finally(() => {
        this.#inFlight = false;
      });
  }
}

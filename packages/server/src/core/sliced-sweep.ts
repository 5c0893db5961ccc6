import type { Clock, TimerHandle } from "@heartline/protocol";

/** What a sweep goes over, and what it does with each slice. */
export interface SlicedSweepOptions<T> {
  readonly clock: Clock;
  /** Every item is visited at least once per period (ms). */
  readonly periodMs: number;
  /** The items, live: a Map's or Set's `values()`, which sees additions and removals as it goes. */
  items(): IterableIterator<T>;
  /** How many there are now. */
  count(): number;
  /** Does the work for one slice (never empty). */
  visit(slice: readonly T[]): void;
  /** False skips this step (a round trip still out, a link down); the cursor stays where it was. Default: always. */
  ready?(): boolean;
}

/**
 * Periodic work over many items, spread over its period instead of done in
 * one burst: one clock timer steps through the items with a cursor, a slice
 * every `stepMs` (250 ms, or a quarter of the period if that is shorter),
 * sized so that a whole pass takes one period (a short list is spread too:
 * two items over a 300 ms period are visited one at 150 ms, one at 300). A burst over every item at
 * once holds the event loop in proportion to their number (the Redis
 * store's TTL refresh of 14,000 sessions held it for about a second, and a
 * keep-alive ping of 15,000 sockets does the same), and every frame that
 * arrives meanwhile is read that much late (issue 26). For store
 * implementations too: `@heartline/redis` refreshes its keys with it.
 */
export class SlicedSweep<T> {
  /** The step between slices, ms. */
  readonly stepMs: number;
  readonly #o: SlicedSweepOptions<T>;
  #cursor: IterableIterator<T> | undefined;
  #timer: TimerHandle | undefined;
  #credit = 0;

  constructor(options: SlicedSweepOptions<T>) {
    this.#o = options;
    this.stepMs = Math.max(1, Math.min(250, Math.floor(options.periodMs / 4)));
  }

  /** Whether the timer runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts the one timer; no-op if it runs. */
  start(): void {
    if (this.#timer === undefined) this.#schedule();
  }

  /** Stops it; the next `start` goes on from where the cursor was. */
  stop(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#schedule();
      this.#step();
    }, this.stepMs);
  }

  #step(): void {
    const o = this.#o;
    if (o.ready !== undefined && !o.ready()) return;
    const total = o.count();
    if (total === 0) {
      this.#credit = 0;
      return;
    }
    // A whole pass per period, however many steps it has: each step earns
    // count × step / period items, kept exact in integers (credit in item·ms),
    // so one connection is pinged once per period, not once per step.
    this.#credit += total * this.stepMs;
    const quota = Math.floor(this.#credit / o.periodMs);
    this.#credit -= quota * o.periodMs;
    if (quota === 0) return;
    const slice: T[] = [];
    let restarted = false;
    while (slice.length < quota) {
      this.#cursor ??= o.items();
      const next = this.#cursor.next();
      if (next.done === true) {
        this.#cursor = undefined;
        // One pass per step at most: a short list is not gone over twice.
        if (restarted) break;
        restarted = true;
        continue;
      }
      slice.push(next.value);
    }
    if (slice.length > 0) o.visit(slice);
  }
}

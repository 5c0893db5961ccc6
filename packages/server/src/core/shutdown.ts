import type { Clock, TimerHandle } from "@heartline/protocol";

/** What shutdown does to each connection still there. */
export interface ShutdownTarget {
  /** Sends `goodbye`, then closes 1001. */
  goAway(goodbye: string): void;
  /** The deadline passed: drop the socket now. */
  destroy(): void;
}

/**
 * The server's shutdown: `goodbye` then 1001 to every connection, done when
 * every socket is gone; those still there after `closeTimeoutMs` are
 * destroyed. One promise, so `close()` is idempotent.
 */
export class Shutdown {
  readonly #clock: Clock;
  readonly #closeTimeoutMs: number;
  #closing: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #deadline: TimerHandle | undefined;

  constructor(clock: Clock, closeTimeoutMs: number) {
    this.#clock = clock;
    this.#closeTimeoutMs = closeTimeoutMs;
  }

  /** True once `begin` was called. */
  get started(): boolean {
    return this.#closing !== undefined;
  }

  /** Starts the shutdown of `live` (a no-op returning the same promise after the first call). */
  begin(live: ReadonlySet<ShutdownTarget>, goodbye: () => string): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    const frame = goodbye();
    for (const conn of [...live]) conn.goAway(frame);
    if (live.size === 0) this.#resolve!();
    else {
      this.#deadline = this.#clock.setTimeout(() => {
        this.#deadline = undefined;
        for (const conn of [...live]) conn.destroy();
      }, this.#closeTimeoutMs);
    }
    return this.#closing;
  }

  /** The last socket is gone: a shutdown under way is done. */
  allGone(): void {
    if (this.#resolve === undefined) return;
    if (this.#deadline !== undefined) {
      this.#clock.clearTimeout(this.#deadline);
      this.#deadline = undefined;
    }
    this.#resolve();
  }
}

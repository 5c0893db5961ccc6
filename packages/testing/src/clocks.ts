import type { Clock, TimerHandle } from "@heartline/protocol";
import type FakeTimers from "@sinonjs/fake-timers";

// Captured at import: if a test installs fake timers globally afterwards,
// the harness's own waits for real I/O (loopback) still use real time.
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;

/** Waits `ms` of wall-clock time (loopback I/O only; never for a Heartline timeout). */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    realSetTimeout(resolve, ms);
  });
}

/** One turn of the real event loop. */
export function realTurn(): Promise<void> {
  return new Promise((resolve) => {
    realSetImmediate(resolve);
  });
}

/**
 * What a frozen page does with its tasks: nothing, until it resumes. Every
 * callback into a client (its timers, its socket's events, its page events)
 * goes through its gate; while frozen they wait here, in the order they
 * became due, and run on `thaw()`.
 */
export class Gate {
  #frozen = false;
  readonly #held: Array<() => void> = [];

  get frozen(): boolean {
    return this.#frozen;
  }

  run(task: () => void): void {
    if (this.#frozen) this.#held.push(task);
    else task();
  }

  freeze(): void {
    this.#frozen = true;
  }

  /** Runs what was held, in order; stops if a task froze the page again. */
  thaw(): void {
    this.#frozen = false;
    while (!this.#frozen && this.#held.length > 0) this.#held.shift()!();
  }
}

/**
 * A client's clock: the shared fake clock, with every timer callback passed
 * through the client's gate, so a frozen page's timers fire only on resume
 * (late, all at once, as in a real frozen tab). `clearTimeout` also cancels a
 * callback that came due while frozen and is still held.
 */
export function gatedClock(fc: FakeTimers.Clock, gate: Gate): Clock {
  const cancelled = new WeakSet<object>();
  const tokens = new Map<TimerHandle, object>();
  return {
    now: () => fc.now,
    setTimeout(callback, ms) {
      const token = {};
      const handle: TimerHandle = fc.setTimeout(() => {
        gate.run(() => {
          tokens.delete(handle);
          if (!cancelled.has(token)) callback();
        });
      }, ms);
      tokens.set(handle, token);
      return handle;
    },
    clearTimeout(handle) {
      fc.clearTimeout(handle as FakeTimers.TimerId);
      const token = tokens.get(handle);
      if (token !== undefined) cancelled.add(token);
      tokens.delete(handle);
    },
  };
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

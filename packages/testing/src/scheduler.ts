import { rethrowLater } from "@heartline/protocol";
import type FakeTimers from "@sinonjs/fake-timers";

/**
 * Promise hops between two deliveries: enough for the consequences of one
 * frame (listeners, promise chains a few levels deep) to run before the next
 * frame arrives, as they would between two socket reads.
 */
const HOPS_BETWEEN_DELIVERIES = 16;

/**
 * Runs the in-memory transport's deliveries at their fake time, never inside
 * the caller (as a real socket never calls back re-entrantly).
 *
 * A delivery due now is queued and run from a microtask; one due later is
 * put on the fake clock. Not `setTimeout(fn, 0)` on the fake clock: inside a
 * tick, fake-timers turns a 0 ms delay into 1 ms, which would move every
 * frame a millisecond off its time. Microtasks all run before `tickAsync`
 * moves on to the next timer (it yields to the real event loop between
 * timers), so a delivery due now always happens at now.
 */
export class Scheduler {
  readonly #fc: FakeTimers.Clock;
  readonly #queue: Array<() => void> = [];
  #draining = false;

  constructor(fc: FakeTimers.Clock) {
    this.#fc = fc;
  }

  /** Runs `task` at fake time `at` (now if `at` is not later), after what is already due. */
  at(at: number, task: () => void): void {
    const wait = at - this.#fc.now;
    if (wait <= 0) this.#enqueue(task);
    else this.#fc.setTimeout(() => this.#enqueue(task), wait);
  }

  #enqueue(task: () => void): void {
    this.#queue.push(task);
    if (this.#draining) return;
    this.#draining = true;
    queueMicrotask(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const task = this.#queue.shift()!;
      try {
        task();
      } catch (error) {
        // A throw from the server or the client under test is a bug to see,
        // not a reason to stop delivering to everyone else.
        rethrowLater(error);
      }
      for (let i = 0; i < HOPS_BETWEEN_DELIVERIES; i++) await undefined;
    }
    this.#draining = false;
  }
}

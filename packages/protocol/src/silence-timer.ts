import type { Clock, TimerHandle } from "./clock.js";

/**
 * "Nothing heard for `timeoutMs`" for one connection (the client's watch;
 * the server watches all of its connections with one shared deadline queue).
 *
 * `touch()` only records the time; it never resets a timer. The one timer
 * fires at the earliest possible deadline and, if something arrived since,
 * re-arms for the remainder. So hearing a frame is O(1) and allocates
 * nothing, and a connection that pings every X costs about one timer per X
 * instead of one timer reset per frame.
 */
export class SilenceTimer {
  #lastHeardAt = 0;
  #handle: TimerHandle | undefined;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #onSilence: () => void;
  readonly #fire = (): void => {
    this.#handle = undefined;
    const remaining = this.#lastHeardAt + this.#timeoutMs - this.#clock.now();
    if (remaining > 0) this.#handle = this.#clock.setTimeout(this.#fire, remaining);
    else this.#onSilence();
  };

  constructor(clock: Clock, timeoutMs: number, onSilence: () => void) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#onSilence = onSilence;
  }

  /** Starts (or restarts) the watch, counting silence from now. */
  start(): void {
    this.stop();
    this.#lastHeardAt = this.#clock.now();
    this.#handle = this.#clock.setTimeout(this.#fire, this.#timeoutMs);
  }

  /** Something was heard. */
  touch(): void {
    this.#lastHeardAt = this.#clock.now();
  }

  /** Stops watching; `start()` may begin again. */
  stop(): void {
    if (this.#handle !== undefined) {
      this.#clock.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
  }

  /** When something was last heard (or the watch started), in clock time. */
  get lastHeardAt(): number {
    return this.#lastHeardAt;
  }

  /**
   * True when the deadline has passed even if the timer has not fired yet:
   * a throttled or frozen page can wake long after it, and must not send on
   * a connection it should already have given up.
   */
  get expired(): boolean {
    return this.#handle !== undefined && this.#clock.now() - this.#lastHeardAt >= this.#timeoutMs;
  }

  get running(): boolean {
    return this.#handle !== undefined;
  }
}

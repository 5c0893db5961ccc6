import type { Clock, ReconnectWindow, TimerHandle } from "@heartline/protocol";
import { type Backoff, goodbyeDelay } from "./backoff.js";

/**
 * When to try again, as a small object (Phoenix's reconnect `Timer`): the
 * attempt streak, the backoff schedule, the one pending retry, and the
 * stable-connection timer that ends a streak.
 */
export interface ReconnectTimer {
  /** Attempts since the last stable connection (or `connect()`): the current streak. */
  readonly attempt: number;
  /** Every attempt this client started, never reset. */
  readonly total: number;
  /** Whether a retry is waiting for its delay. */
  readonly pending: boolean;
  /**
   * The wait before the next attempt after a connection ended (`undefined`:
   * none, when the end is not worth a retry or the streak reached
   * `maxAttempts`): the refusal's `Retry-After` when it gave one, else inside
   * the `goodbye` window when there was one, else the backoff.
   */
  delayAfter(
    retry: boolean,
    goodbye: ReconnectWindow | undefined,
    retryAfterMs?: number,
  ): number | undefined;
  /** Runs the next attempt after `delayMs`. */
  schedule(delayMs: number): void;
  /** Runs the pending attempt now instead of at the end of its delay. */
  fireNow(): void;
  cancel(): void;
  /** A connection was welcomed: it ends the streak once it has lasted `stableAfterMs`. */
  opened(): void;
  /** That connection ended. */
  closed(): void;
  /** A fresh start (`connect()`): the streak is 0. */
  reset(): void;
}

export interface ReconnectPolicy {
  /** `false`: never reconnect (and no stable timer). */
  enabled: boolean;
  maxAttempts: number;
  stableAfterMs: number;
  backoff: Backoff;
}

export function createReconnectTimer(
  clock: Clock,
  random: () => number,
  policy: ReconnectPolicy,
  /** Starts an attempt; called by the timer and by `fireNow`. */
  attemptNow: () => void,
): ReconnectTimer {
  const maxAttempts = policy.enabled ? policy.maxAttempts : 0;
  let attempt = 0;
  let total = 0;
  let retry: TimerHandle | undefined;
  let stable: TimerHandle | undefined;
  const clear = (handle: TimerHandle | undefined): undefined => {
    if (handle !== undefined) clock.clearTimeout(handle);
    return undefined;
  };
  const fire = (): void => {
    retry = clear(retry);
    attempt++;
    total++;
    attemptNow();
  };
  return {
    get attempt() {
      return attempt;
    },
    get total() {
      return total;
    },
    get pending() {
      return retry !== undefined;
    },
    delayAfter(retry, goodbye, retryAfterMs) {
      if (!retry || attempt >= maxAttempts) return undefined;
      return (
        retryAfterMs ??
        (goodbye ? goodbyeDelay(goodbye, random()) : policy.backoff(attempt, random()))
      );
    },
    schedule(delayMs) {
      retry = clear(retry);
      retry = clock.setTimeout(fire, delayMs);
    },
    fireNow: fire,
    cancel() {
      retry = clear(retry);
    },
    opened() {
      if (!policy.enabled) return;
      stable = clock.setTimeout(() => {
        stable = undefined;
        attempt = 0;
      }, policy.stableAfterMs);
    },
    closed() {
      stable = clear(stable);
    },
    reset() {
      attempt = 0;
    },
  };
}

import type { ReconnectWindow } from "@heartline/protocol";

/**
 * How long to wait before reconnect attempt number `attempt` (0 for the first
 * attempt since the connection was last stable), given `random` in [0, 1).
 * A pure function, so a seeded random gives an exact, testable schedule.
 */
export type Backoff = (attempt: number, random: number) => number;

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential
 * Backoff and Jitter"): uniform in [0, min(capMs, baseMs · 2^attempt)).
 * Full jitter spreads a crowd of clients that lost the same server the most.
 */
export function fullJitterBackoff(baseMs: number, capMs: number): Backoff {
  return (attempt, random) => random * Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * The wait before the first attempt after a `goodbye`: uniform inside the
 * window the server announced. A window with min > max is read as [max, min]
 * rather than refused: the server still asked for a spread.
 */
export function goodbyeDelay(window: ReconnectWindow, random: number): number {
  const low = Math.min(window.minMs, window.maxMs);
  return low + random * (Math.max(window.minMs, window.maxMs) - low);
}

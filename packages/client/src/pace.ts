import type { Clock, RateTerms } from "@heartline/protocol";

/**
 * The client's own token bucket inside the server's announced rate terms
 * (`welcome.rate`), one per connection as the server's is.
 *
 * The server counts frames as they arrive, the client as they leave: a
 * network that delays some frames and then delivers them together makes a
 * paced stream look burstier at the server. So the client keeps only half
 * the server's burst (at least 1) and the same sustained rate: the other
 * half absorbs `(burst − paceBurst) / perSecond` of jitter, 2 s with the
 * server's defaults (200 burst, 50/s).
 */
export interface Pace {
  /**
   * Ms until `need` tokens are there (0: now). Refills first; O(1).
   */
  waitFor(need: number): number;
  /** Takes one token (after `waitFor(…)` said 0). */
  take(): void;
  /** Tokens kept for a ping: anything else may take a token only above them. */
  readonly reserve: number;
}

/** No terms, no limit: the server announced none, so every frame goes out at once. */
const unlimited: Pace = { waitFor: () => 0, take() {}, reserve: 0 };

/** The client's burst: half the server's, at least 1 (see `Pace`). */
export const paceBurst = (rate: RateTerms): number => Math.max(1, Math.floor(rate.burst / 2));

export function createPace(clock: Clock, rate: RateTerms | undefined): Pace {
  if (rate === undefined) return unlimited;
  const burst = paceBurst(rate);
  const perMs = rate.perSecond / 1000;
  let tokens = burst;
  let at = clock.now();
  return {
    // One token kept for pings, unless the bucket only holds one.
    reserve: burst > 1 ? 1 : 0,
    waitFor(need) {
      const now = clock.now();
      tokens = Math.min(burst, tokens + (now - at) * perMs);
      at = now;
      return tokens >= need ? 0 : Math.ceil((need - tokens) / perMs);
    },
    take() {
      tokens--;
    },
  };
}

import { HarnessError, HarnessErrorCode } from "./errors.js";

/** What a blackholed link does with the bytes (and FIN/close) sent into it. */
export type WhileBlackholed =
  /** Keep them and deliver them, in order, on `heal()`: TCP retransmitting across an outage. */
  | "hold"
  /** Drop them for good: a dead NAT entry or a pulled cable, where nothing is ever delivered. */
  | "discard";

/** The one check of a `whileBlackholed` value (the proxy's option, a link's `blackhole()`). */
export function checkWhileBlackholed(mode: unknown): WhileBlackholed {
  if (mode !== "hold" && mode !== "discard") {
    throw new HarnessError(
      HarnessErrorCode.InvalidOption,
      `whileBlackholed must be "hold" or "discard", got ${String(mode)}`,
    );
  }
  return mode;
}

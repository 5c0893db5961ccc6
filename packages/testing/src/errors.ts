/** Stable codes of every `HarnessError`; branch on these, not on messages. */
export const HarnessErrorCode = {
  /** A `waitFor.*` saw nothing matching within its bound of fake time. The timeline is in the message. */
  WaitTimedOut: "wait_timed_out",
  /** An `expectNo.*` saw what it must not see. The timeline is in the message. */
  UnexpectedEvent: "unexpected_event",
  /** A fault control that the loopback transport cannot perform (latency, drop, delay). */
  UnsupportedOnLoopback: "unsupported_on_loopback",
  /** An option is out of range (a negative latency, an unknown transport…). */
  InvalidOption: "invalid_option",
  /** The harness was closed; create a new one per test. */
  Closed: "harness_closed",
  /** Real socket I/O did not go quiet within its (wall-clock) bound: loopback only. */
  IoNotQuiet: "io_not_quiet",
} as const;
export type HarnessErrorCode = (typeof HarnessErrorCode)[keyof typeof HarnessErrorCode];

/** Every error the harness throws; `code` is a `HarnessErrorCode`. */
export class HarnessError extends Error {
  override readonly name = "HarnessError";
  readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

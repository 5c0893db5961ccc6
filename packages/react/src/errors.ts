/** Stable codes of the errors `@heartline/react` throws; branch on these, not on messages. */
export const ReactErrorCode = {
  /** A hook ran outside a `<HeartlineProvider>`: there is no client to read. */
  NoProvider: "no_provider",
  /** A hook or the provider was given an option it cannot use; the message names it. */
  InvalidOption: "invalid_option",
} as const;
export type ReactErrorCode = (typeof ReactErrorCode)[keyof typeof ReactErrorCode];

/** Thrown during render, so an error boundary sees it; `code` is a `ReactErrorCode`. */
export class HeartlineReactError extends Error {
  override readonly name = "HeartlineReactError";
  readonly code: ReactErrorCode;

  constructor(code: ReactErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

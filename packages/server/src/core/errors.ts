/** Stable codes carried by every `HeartlineError` the server throws or reports. */
export const ServerErrorCode = {
  /** `send`/`broadcast` data failed the application's server schema; nothing was sent. */
  InvalidPayload: "invalid_payload",
  /** An option is out of range (a non-positive interval, a window with min > max…). */
  InvalidOption: "invalid_option",
  /** `conn.close(code, reason)` with a code an application may not send (1000 or 3000–4999) or a reason over 123 bytes. */
  InvalidCloseCode: "invalid_close_code",
  /** An application listener threw; the error is in `cause`. */
  ListenerThrew: "listener_threw",
  /** The `authenticate` hook threw or rejected; the upgrade was refused with 401. */
  AuthenticateThrew: "authenticate_threw",
  /**
   * The reason `authenticate`'s `signal` aborts with when `authenticateTimeoutMs`
   * passed (the upgrade is refused 401 `authenticate_timeout`); never on `error`.
   */
  AuthenticateTimeout: "authenticate_timeout",
  /** The transport reported an error (the connection's end is reported separately). */
  TransportError: "transport_error",
  /**
   * A warning, not a failure: `allowedOrigins: "*"` together with
   * `authenticate` (any site may open an authenticated connection with its
   * visitors' cookies). Given once, after creation.
   */
  InsecureOrigins: "insecure_origins",
  /**
   * The process ran out of file descriptors (EMFILE/ENFILE) accepting a
   * connection: reported once per episode (until a connection is accepted
   * again), each failed accept counted in `stats().acceptErrors`.
   */
  DescriptorsExhausted: "descriptors_exhausted",
  /** The `addressOf` option threw; the socket's own address was used. */
  AddressOfThrew: "address_of_threw",
  /**
   * A warning, not a failure: `intervalMs` above 55 s with keep-alive off,
   * so connections go quiet longer than a proxy's usual 60 s idle timeout.
   * Given once, after creation.
   */
  ProxyIdleTimeout: "proxy_idle_timeout",
  /** The standalone HTTP server could not listen. */
  ListenFailed: "listen_failed",
  /** A runtime adapter was created on another runtime (`@heartline/server/bun` needs `Bun`, `/deno` needs `Deno`). */
  UnsupportedRuntime: "unsupported_runtime",
  /**
   * A call to the session store (`resume.store`) threw or rejected: the
   * upgrade got 503 (`store_unavailable`), or the session's end, detach or
   * release may not have been recorded. The error is in `cause`.
   */
  SessionStoreFailed: "session_store_failed",
} as const;
export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];

/** An error with a stable string `code` to branch on, and the original error as `cause`. */
export class HeartlineError extends Error {
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HeartlineError";
    this.code = code;
  }
}

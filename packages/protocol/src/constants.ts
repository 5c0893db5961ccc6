/** The WebSocket subprotocol a Heartline v1 client offers and the server selects. */
export const SUBPROTOCOL = "heartline.v1";

/**
 * Offered beside `heartline.v1` by a client that can resume: "start a new
 * resumable session". The server never selects it (it selects `heartline.v1`).
 */
export const RESUME_SUBPROTOCOL = "heartline.resume";

/** `heartline.resume.<token>`: "resume the session this token belongs to". */
export const RESUME_TOKEN_OFFER_PREFIX = "heartline.resume.";

/** The longest resume token: 200 characters, so the offer stays a short header value. */
export const MAX_RESUME_TOKEN_LENGTH = 200;

/**
 * A resume token: 1 to 200 of `A–Z a–z 0–9 . _ ~ -`, all of them valid in a
 * subprotocol name (an RFC 7230 token), so the token can travel as one.
 */
export const RESUME_TOKEN_PATTERN = /^[A-Za-z0-9._~-]{1,200}$/;

/** The `protocol` number the server announces in `welcome`. */
export const PROTOCOL_VERSION = 1;

/** The largest `seq` a ping may carry: 2^53 − 1, the largest exact integer in JSON numbers. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * Every close code Heartline v1 uses, by name. The table in PROTOCOL.md is
 * the source; `closeCodeInfo` below says what each one means to a client.
 */
export const CloseCode = {
  /** Normal closure, by either side. */
  Normal: 1000,
  /** The server is shutting down; it sent `goodbye` first. */
  GoingAway: 1001,
  /** The client sent a binary frame. */
  UnsupportedData: 1003,
  /** No close frame arrived (never sent on the wire; reported by WebSocket APIs). */
  Abnormal: 1006,
  /** Invalid UTF-8 in a text frame. */
  InvalidPayload: 1007,
  /** A policy violation detected by the WebSocket layer (e.g. a message in too many fragments). */
  PolicyViolation: 1008,
  /** A frame larger than the server's `maxPayload`. */
  MessageTooBig: 1009,
  /** The server closed a slow consumer whose outbound buffer passed its bound. */
  TryAgainLater: 1013,
  /** No data frame arrived for `timeoutMs`. */
  HeartbeatTimeout: 4000,
  /** Invalid JSON or an invalid envelope. */
  BadMessage: 4400,
  /**
   * Authentication refused, as a close a browser can read: a server set to do
   * so accepts the upgrade and closes at once with 4401 (no `welcome`)
   * instead of answering HTTP 401, whose status a browser never sees.
   */
  Unauthorized: 4401,
  /** This connection's session was resumed on a newer connection (resumable sessions). */
  Replaced: 4409,
  /** The client exceeded the server's rate limit. */
  RateLimited: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Why the server says a connection ended. Each connection gets exactly one. */
export const DisconnectReason = {
  /** No data frame for `timeoutMs`. */
  Timeout: "timeout",
  /** The client sent a close frame (its code is reported). */
  ClientClosed: "client_closed",
  /** The socket ended or errored without a close frame. */
  ConnectionLost: "connection_lost",
  /** The server shut down, or the application closed the connection. */
  ServerClosed: "server_closed",
  /** Bad message, binary frame, invalid UTF-8, oversized frame, or a policy violation (1008). */
  ProtocolError: "protocol_error",
  /** The client exceeded the rate limit. */
  RateLimited: "rate_limited",
  /** The session was resumed on a newer connection (close 4409). */
  Replaced: "replaced",
  /** Authentication was refused (HTTP 401, or close 4401 where the server is set to send it). */
  Unauthorized: "unauthorized",
} as const;
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

/** Codes of the soft `error` message (the connection stays open). */
export const ErrorCode = {
  /** A `message` whose envelope is valid but whose `data` fails the application's schema. */
  InvalidPayload: "invalid_payload",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why a resume was refused (`welcome.resumeFailed`); the client got a new session instead. */
export const ResumeFailure = {
  /** No such session: never existed, a spent token, a session ended deliberately, or too long ago. */
  Unknown: "unknown",
  /** The session's window had passed. */
  Expired: "expired",
  /** `authenticate` returned a different client than the session's. */
  Mismatch: "mismatch",
  /** The session had been ended because an unacknowledged buffer overflowed. */
  Overflow: "overflow",
} as const;
export type ResumeFailure = (typeof ResumeFailure)[keyof typeof ResumeFailure];

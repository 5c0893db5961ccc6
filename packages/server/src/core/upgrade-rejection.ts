/** Why an upgrade was refused before any WebSocket existed. */
export const UpgradeRejectReason = {
  NotFound: "not_found",
  OriginNotAllowed: "origin_not_allowed",
  UnsupportedSubprotocol: "unsupported_subprotocol",
  Unauthorized: "unauthorized",
  /** `ws` refused the handshake itself (method, key, version headers). */
  InvalidHandshake: "invalid_handshake",
  /** The server is shutting down. */
  ServerClosing: "server_closing",
  /** The server holds `maxConnections` (503, `Retry-After`). */
  ServerFull: "server_full",
  /** The connecting address holds `maxConnectionsPerAddress` (429, `Retry-After`). */
  AddressLimit: "address_limit",
  /** `authenticate` did not settle within `authenticateTimeoutMs` (401). */
  AuthenticateTimeout: "authenticate_timeout",
  /** A resume met a session store it cannot reach (503, `Retry-After`); the token is not spent. */
  StoreUnavailable: "store_unavailable",
} as const;
export type UpgradeRejectReason = (typeof UpgradeRejectReason)[keyof typeof UpgradeRejectReason];

/** What the `upgradeRejected` event reports, once per refused upgrade. */
export interface UpgradeRejection {
  /** The HTTP status the upgrade was answered with (404, 403, 400, 401, …). */
  readonly status: number;
  /** Why it was refused. */
  readonly reason: UpgradeRejectReason;
  /** The peer's address, when the transport knows it. */
  readonly remoteAddress: string | undefined;
}

import type { DisconnectReason } from "@heartline/protocol";
import type { HeartlineError } from "./errors.js";
import type { UpgradeRequest } from "./transport.js";

/** One connection as the application sees it. */
export interface Connection<TServer = unknown, TAuth = unknown> {
  readonly sessionId: string;
  readonly remoteAddress: string | undefined;
  /** What `authenticate` resolved to (undefined without the hook). */
  readonly auth: TAuth;
  /** Clock time the connection was accepted. */
  readonly connectedAt: number;
  /** Clock time the last data frame arrived (connectedAt before the first). */
  readonly lastSeenAt: number;
  /** False once the connection's end has been decided (and reported). */
  readonly isOpen: boolean;
  /**
   * Sends an application message, validated against the protocol's server
   * schema first (throws `HeartlineError` code `invalid_payload`, nothing
   * sent). Returns false when the connection is no longer open, or when this
   * message would pass `maxBufferedBytes` (the connection is then closed 1013).
   */
  send(data: TServer): boolean;
  /** Closes the connection (default 1000); reported as `server_closed` with that code. */
  close(code?: number, reason?: string): void;
}

/** The one report of a connection's end. */
export interface DisconnectInfo<TAuth = unknown> {
  readonly sessionId: string;
  readonly reason: DisconnectReason;
  /** The close code sent or received; absent for `connection_lost` (no close frame). */
  readonly code?: number;
  readonly lastSeenAt: number;
  readonly connectedAt: number;
  readonly auth: TAuth;
}

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
} as const;
export type UpgradeRejectReason = (typeof UpgradeRejectReason)[keyof typeof UpgradeRejectReason];

/** The `upgradeRejected` event's payload: one refused upgrade. */
export interface UpgradeRejection {
  readonly status: number;
  readonly reason: UpgradeRejectReason;
  readonly remoteAddress: string | undefined;
}

/** Each server event's listener, by event name (also the `on` option). */
export interface ServerListeners<TClient = unknown, TServer = unknown, TAuth = unknown> {
  /** A client completed the upgrade and was sent `welcome`. `request` is not kept afterwards. */
  connection: (conn: Connection<TServer, TAuth>, request: UpgradeRequest | undefined) => void;
  /** An application message whose `data` passed the protocol's client schema. */
  message: (conn: Connection<TServer, TAuth>, data: TClient) => void;
  /** Exactly once per connection. */
  disconnect: (info: DisconnectInfo<TAuth>, conn: Connection<TServer, TAuth>) => void;
  /** Something went wrong that did not crash the server (a listener threw, authenticate threw…). */
  error: (error: HeartlineError, conn: Connection<TServer, TAuth> | undefined) => void;
  /** An upgrade was refused with an HTTP status; once per refused request. */
  upgradeRejected: (rejection: UpgradeRejection) => void;
}

/** A server event's name. */
export type ServerEventName = keyof ServerListeners;

/** Live counters; `stats()` returns a copy. */
export interface ServerStats {
  /** Connections accepted and not yet ended. */
  readonly open: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  readonly disconnects: Readonly<Record<DisconnectReason, number>>;
  /** Application messages received (valid ones) and sent. */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Every data frame received and sent (pings, pongs, errors… included). */
  readonly framesIn: number;
  readonly framesOut: number;
  /** Refused upgrades by HTTP status. */
  readonly upgradesRejected: Readonly<Record<number, number>>;
}

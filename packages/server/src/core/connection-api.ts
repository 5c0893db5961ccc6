import type { DisconnectReason } from "@heartline/protocol";

/** One connection as the application sees it. */
export interface Connection<TServer = unknown, TAuth = unknown> {
  readonly sessionId: string;
  readonly remoteAddress: string | undefined;
  /** What `authenticate` resolved to (undefined without the hook). */
  readonly auth: TAuth;
  /** Clock time the connection was accepted. */
  readonly connectedAt: number;
  /** Clock time the last data frame from the client arrived (connectedAt before the first). */
  readonly lastHeardAt: number;
  /** @deprecated The same as `lastHeardAt` (the name the client uses too); kept so no code breaks. */
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
  /** Clock time the last data frame from the client arrived (connectedAt before the first). */
  readonly lastHeardAt: number;
  /** @deprecated The same as `lastHeardAt`; kept so no code breaks. */
  readonly lastSeenAt: number;
  readonly connectedAt: number;
  readonly auth: TAuth;
  /**
   * True when the connection's session stays resumable after this end (or,
   * for `replaced`, continues on the newer connection); false on a session
   * that is not resumable or that this end ended.
   */
  readonly resumable: boolean;
}

import type { DisconnectReason } from "@heartline/protocol";

/**
 * Where a connection's session stands: `live` (a connection carries it),
 * `waiting` (its connection ended, and its resumable session waits for its
 * client: `send` still accepts, kept for the replay), `ended`.
 */
export type ConnectionState = "live" | "waiting" | "ended";

/**
 * One connection as the application sees it, and with resumption on the
 * handle of its session: keep it, and `send` on it still reaches the
 * session after the connection ends, while the session waits for its
 * client or after it resumed on a new connection.
 */
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
   * True when this connection carries a resumable session (resumption on,
   * offered by the client and granted; also on a resumed connection and on
   * the session's handle); false on a plain v1 connection. Fixed for the
   * connection's life. Lets a listener of `connection` (presence, say) tell,
   * before any end, whether a `sessionEnd` will follow its `disconnect`.
   */
  readonly resumable: boolean;
  /**
   * `live` while open; after its end `waiting` while its resumable session
   * waits for its client, `live` again once the session resumed on another
   * connection, `ended` when the session ended (or for a plain v1 connection).
   */
  readonly state: ConnectionState;
  /**
   * Sends an application message, validated against the protocol's server
   * schema first (throws `HeartlineError` code `invalid_payload`, nothing
   * sent). On a plain v1 connection: false once it is no longer open, or
   * when this message would pass `maxBufferedBytes` (the connection is then
   * closed 1013). On a resumable session: true when the session took it,
   * numbered and kept until acknowledged, also while the session waits for
   * its client (replayed on resume, reported undelivered if the session
   * ends first), and after it resumed elsewhere (sent on the new
   * connection); false once the session ended, or when its buffer is full
   * (the session ends `overflow`, reported with every message it held).
   */
  send(data: TServer): boolean;
  /**
   * Closes the connection (default 1000); reported as `server_closed` with
   * that code: a deliberate end, so its resumable session ends too. A no-op
   * once the connection ended. On the handle `session(id)` returns for a
   * session waiting for its client: ends the session now (`sessionEnd`
   * `server_closed`, with its undelivered messages).
   */
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

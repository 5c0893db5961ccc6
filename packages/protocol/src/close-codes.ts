import { CloseCode, DisconnectReason } from "./constants.js";

/** What one close code means to a client (an entry of `closeCodeInfo`). */
export interface CloseCodeInfo {
  readonly name: string;
  /** Whether a client should try to connect again after this code. */
  readonly reconnect: boolean;
  /**
   * The disconnect reason for a connection the server side (the server, or
   * the WebSocket layer under it) ended with this code: what the server
   * reports when it closes with it, and what a client reports on receiving
   * it. A close the client itself started is `client_closed` on both sides,
   * whatever its code. Read it through `disconnectReasonFor`.
   */
  readonly reason: DisconnectReason;
  /** Why that is the answer. */
  readonly why: string;
}

/**
 * What each close code means to a client, whether reconnecting can help, and
 * the disconnect reason it stands for. This one table is the client's
 * reconnect classifier (`shouldReconnect`) and both sides' code → reason
 * mapping (`disconnectReasonFor`).
 */
export const closeCodeInfo = {
  [CloseCode.Normal]: {
    name: "normal",
    reason: DisconnectReason.ServerClosed,
    reconnect: false,
    why: "a deliberate close by one side; coming back would undo it",
  },
  [CloseCode.GoingAway]: {
    name: "going_away",
    reason: DisconnectReason.ServerClosed,
    reconnect: true,
    why: "the server is restarting; come back inside its goodbye window",
  },
  [CloseCode.UnsupportedData]: {
    name: "unsupported_data",
    reason: DisconnectReason.ProtocolError,
    reconnect: false,
    why: "the client sent binary; the same client would do it again",
  },
  [CloseCode.Abnormal]: {
    name: "abnormal",
    reason: DisconnectReason.ConnectionLost,
    reconnect: true,
    why: "the connection dropped without a close frame: the network, not the peer",
  },
  [CloseCode.InvalidPayload]: {
    name: "invalid_payload",
    reason: DisconnectReason.ProtocolError,
    reconnect: false,
    why: "the client sent invalid UTF-8; the same client would do it again",
  },
  [CloseCode.PolicyViolation]: {
    name: "policy_violation",
    reason: DisconnectReason.ProtocolError,
    reconnect: false,
    why: "the WebSocket layer refused what the client sent (e.g. too many fragments); it would send it again",
  },
  [CloseCode.MessageTooBig]: {
    name: "message_too_big",
    reason: DisconnectReason.ProtocolError,
    reconnect: true,
    why: "one message was too large and is lost (reported); the connection itself was sound",
  },
  [CloseCode.TryAgainLater]: {
    name: "try_again_later",
    reason: DisconnectReason.ServerClosed,
    reconnect: true,
    why: "the server shed a slow consumer; later, with backoff, it may keep up",
  },
  [CloseCode.HeartbeatTimeout]: {
    name: "heartbeat_timeout",
    reason: DisconnectReason.Timeout,
    reconnect: true,
    why: "the server heard nothing for timeoutMs; a fresh connection may get through",
  },
  [CloseCode.BadMessage]: {
    name: "bad_message",
    reason: DisconnectReason.ProtocolError,
    reconnect: false,
    why: "the client broke the protocol; retrying would repeat it (a version mismatch or a bug)",
  },
  [CloseCode.Unauthorized]: {
    name: "unauthorized",
    reason: DisconnectReason.Unauthorized,
    reconnect: false,
    // The contract: never retry with the same credentials. A client that can
    // get fresh ones (a credentials function) tries once more, on purpose,
    // outside this classifier.
    why: "authentication was refused; the same credentials would be refused again",
  },
  [CloseCode.Replaced]: {
    name: "replaced",
    reason: DisconnectReason.Replaced,
    reconnect: false,
    // Only a client that still reads this socket sees 4409, so the newer
    // connection is not its own current one: another holder of the session's
    // token (a second tab, a copied token). Resuming again would take the
    // session back, and the two would evict each other in turn.
    why: "a newer connection of this session took it over; coming back would evict that one in turn",
  },
  [CloseCode.RateLimited]: {
    name: "rate_limited",
    reason: DisconnectReason.RateLimited,
    reconnect: true,
    why: "the client sent too fast; backoff slows it down before it returns",
  },
} as const satisfies Record<number, CloseCodeInfo>;

/**
 * The reconnect classifier shared by every Heartline client.
 *
 * Codes Heartline does not define: 1002 (protocol error), 1010 (extension)
 * and 4400–4499 (the client's own fault, by analogy with HTTP 4xx) are not
 * worth a retry; everything else (1011 server error, 1012 service restart,
 * 1014 bad gateway, other 4xxx application codes, 1005 no status) is.
 */
export function shouldReconnect(code: number): boolean {
  const known = (closeCodeInfo as Record<number, CloseCodeInfo | undefined>)[code];
  if (known) return known.reconnect;
  if (code === 1002 || code === 1010) return false;
  if (code >= 4400 && code <= 4499) return false;
  return true;
}

/**
 * The disconnect reason for a connection the server side ended with `code`
 * (see `CloseCodeInfo.reason`), the one code → reason mapping of client and
 * server. A code Heartline does not define: 1002 (a framing violation),
 * which the WebSocket layer closes with on a peer that broke the protocol,
 * is `protocol_error`; every other code (1011
 * server error, 1012 service restart, an application's own 4xxx, 1005 no
 * status) is `server_closed`: the server side chose to end it.
 */
export function disconnectReasonFor(code: number): DisconnectReason {
  const known = (closeCodeInfo as Record<number, CloseCodeInfo | undefined>)[code];
  if (known) return known.reason;
  if (code === 1002) return DisconnectReason.ProtocolError;
  return DisconnectReason.ServerClosed;
}

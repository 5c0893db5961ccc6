import { CloseCode } from "./constants.js";

/** What one close code means to a client (an entry of `closeCodeInfo`). */
export interface CloseCodeInfo {
  readonly name: string;
  /** Whether a client should try to connect again after this code. */
  readonly reconnect: boolean;
  /** Why that is the answer. */
  readonly why: string;
}

/**
 * What each close code means to a client, and whether reconnecting can help.
 * This one table is the client's reconnect classifier (`shouldReconnect`).
 */
export const closeCodeInfo = {
  [CloseCode.Normal]: {
    name: "normal",
    reconnect: false,
    why: "a deliberate close by one side; coming back would undo it",
  },
  [CloseCode.GoingAway]: {
    name: "going_away",
    reconnect: true,
    why: "the server is restarting; come back inside its goodbye window",
  },
  [CloseCode.UnsupportedData]: {
    name: "unsupported_data",
    reconnect: false,
    why: "the client sent binary; the same client would do it again",
  },
  [CloseCode.Abnormal]: {
    name: "abnormal",
    reconnect: true,
    why: "the connection dropped without a close frame: the network, not the peer",
  },
  [CloseCode.InvalidPayload]: {
    name: "invalid_payload",
    reconnect: false,
    why: "the client sent invalid UTF-8; the same client would do it again",
  },
  [CloseCode.MessageTooBig]: {
    name: "message_too_big",
    reconnect: true,
    why: "one message was too large and is lost (reported); the connection itself was sound",
  },
  [CloseCode.TryAgainLater]: {
    name: "try_again_later",
    reconnect: true,
    why: "the server shed a slow consumer; later, with backoff, it may keep up",
  },
  [CloseCode.HeartbeatTimeout]: {
    name: "heartbeat_timeout",
    reconnect: true,
    why: "the server heard nothing for timeoutMs; a fresh connection may get through",
  },
  [CloseCode.BadMessage]: {
    name: "bad_message",
    reconnect: false,
    why: "the client broke the protocol; retrying would repeat it (a version mismatch or a bug)",
  },
  [CloseCode.RateLimited]: {
    name: "rate_limited",
    reconnect: true,
    why: "the client sent too fast; backoff slows it down before it returns",
  },
} as const satisfies Record<number, CloseCodeInfo>;

/**
 * The reconnect classifier shared by every Heartline client.
 *
 * Codes Heartline does not define: 1002 (protocol error), 1008 (policy
 * violation), 1010 (extension) and 4400–4499 (the client's own fault, by
 * analogy with HTTP 4xx) are not worth a retry; everything else (1011 server
 * error, 1012 service restart, 1014 bad gateway, other 4xxx application
 * codes, 1005 no status) is.
 */
export function shouldReconnect(code: number): boolean {
  const known = (closeCodeInfo as Record<number, CloseCodeInfo | undefined>)[code];
  if (known) return known.reconnect;
  if (code === 1002 || code === 1008 || code === 1010) return false;
  if (code >= 4400 && code <= 4499) return false;
  return true;
}

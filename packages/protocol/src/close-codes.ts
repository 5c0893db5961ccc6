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
 * Each close code's disconnect reason and whether reconnecting can help:
 * the one table read by the client's reconnect classifier
 * (`shouldReconnect`) and by both sides' code → reason mapping
 * (`disconnectReasonFor`). Compact, since every browser bundle carries it.
 */
const rules: Readonly<Record<number, readonly [reason: DisconnectReason, reconnect: boolean]>> = {
  [CloseCode.Normal]: [DisconnectReason.ServerClosed, false],
  [CloseCode.GoingAway]: [DisconnectReason.ServerClosed, true],
  [CloseCode.UnsupportedData]: [DisconnectReason.ProtocolError, false],
  [CloseCode.Abnormal]: [DisconnectReason.ConnectionLost, true],
  [CloseCode.InvalidPayload]: [DisconnectReason.ProtocolError, false],
  [CloseCode.PolicyViolation]: [DisconnectReason.ProtocolError, false],
  [CloseCode.MessageTooBig]: [DisconnectReason.ProtocolError, true],
  [CloseCode.TryAgainLater]: [DisconnectReason.ServerClosed, true],
  [CloseCode.HeartbeatTimeout]: [DisconnectReason.Timeout, true],
  [CloseCode.BadMessage]: [DisconnectReason.ProtocolError, false],
  // The contract: never retry with the same credentials. A client that can
  // get fresh ones (a credentials function) tries once more, on purpose,
  // outside this classifier.
  [CloseCode.Unauthorized]: [DisconnectReason.Unauthorized, false],
  // Only a client that still reads this socket sees 4409, so the newer
  // connection is not its own current one: another holder of the session's
  // token (a second tab, a copied token). Resuming again would take the
  // session back, and the two would evict each other in turn.
  [CloseCode.Replaced]: [DisconnectReason.Replaced, false],
  [CloseCode.RateLimited]: [DisconnectReason.RateLimited, true],
};

/**
 * Each code's name and why the answer is what it is, written inside the
 * builder: only `closeCodeInfo` reads them, and a bundle without it (the
 * browser client's) leaves them out.
 */
const describeCodes = () => {
  const about = {
    [CloseCode.Normal]: ["normal", "a deliberate close by one side; coming back would undo it"],
    [CloseCode.GoingAway]: [
      "going_away",
      "the server is restarting; come back inside its goodbye window",
    ],
    [CloseCode.UnsupportedData]: [
      "unsupported_data",
      "the client sent binary; the same client would do it again",
    ],
    [CloseCode.Abnormal]: [
      "abnormal",
      "the connection dropped without a close frame: the network, not the peer",
    ],
    [CloseCode.InvalidPayload]: [
      "invalid_payload",
      "the client sent invalid UTF-8; the same client would do it again",
    ],
    [CloseCode.PolicyViolation]: [
      "policy_violation",
      "the WebSocket layer refused what the client sent (e.g. too many fragments); it would send it again",
    ],
    [CloseCode.MessageTooBig]: [
      "message_too_big",
      "one message was too large and is lost (reported); the connection itself was sound",
    ],
    [CloseCode.TryAgainLater]: [
      "try_again_later",
      "the server shed a slow consumer; later, with backoff, it may keep up",
    ],
    [CloseCode.HeartbeatTimeout]: [
      "heartbeat_timeout",
      "the server heard nothing for timeoutMs; a fresh connection may get through",
    ],
    [CloseCode.BadMessage]: [
      "bad_message",
      "the client broke the protocol; retrying would repeat it (a version mismatch or a bug)",
    ],
    [CloseCode.Unauthorized]: [
      "unauthorized",
      "authentication was refused; the same credentials would be refused again",
    ],
    [CloseCode.Replaced]: [
      "replaced",
      "a newer connection of this session took it over; coming back would evict that one in turn",
    ],
    [CloseCode.RateLimited]: [
      "rate_limited",
      "the client sent too fast; backoff slows it down before it returns",
    ],
  } as const;
  const info: Record<number, CloseCodeInfo> = {};
  for (const [code, [name, why]] of Object.entries(about)) {
    const [reason, reconnect] = rules[Number(code)]!;
    info[Number(code)] = Object.freeze({ name, reconnect, reason, why });
  }
  return Object.freeze(info) as { readonly [K in keyof typeof about]: CloseCodeInfo };
};

/**
 * What each close code means to a client, whether reconnecting can help, and
 * the disconnect reason it stands for, with why (built from the two tables
 * above; pure, so a bundle that does not read it leaves the explanations out).
 */
export const closeCodeInfo = /* @__PURE__ */ describeCodes();

/**
 * The reconnect classifier shared by every Heartline client.
 *
 * Codes Heartline does not define: 1002 (protocol error), 1010 (extension)
 * and 4400–4499 (the client's own fault, by analogy with HTTP 4xx) are not
 * worth a retry; everything else (1011 server error, 1012 service restart,
 * 1014 bad gateway, other 4xxx application codes, 1005 no status) is.
 */
export function shouldReconnect(code: number): boolean {
  const known = rules[code];
  if (known) return known[1];
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
  const known = rules[code];
  if (known) return known[0];
  if (code === 1002) return DisconnectReason.ProtocolError;
  return DisconnectReason.ServerClosed;
}

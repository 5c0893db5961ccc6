import {
  CREDENTIALS_CHARS,
  CREDENTIALS_OFFER_PREFIX,
  CREDENTIALS_PATTERN,
  RESUME_SUBPROTOCOL,
  RESUME_TOKEN_OFFER_PREFIX,
  RESUME_TOKEN_PATTERN,
  SUBPROTOCOL,
} from "./constants.js";

// Resumption is negotiated in `Sec-WebSocket-Protocol` because a browser
// cannot set headers on a WebSocket and a token in the URL ends up in access
// logs. The server still selects `heartline.v1`; the resume offers only ask.

/** True for a well-formed resume token: 1 to 200 of `A–Z a–z 0–9 . _ ~ -`. */
export function isResumeToken(value: unknown): value is string {
  return typeof value === "string" && RESUME_TOKEN_PATTERN.test(value);
}

/** True for credentials that can travel as `heartline.auth.<credentials>` (`CREDENTIALS_PATTERN`). */
export function isCredentials(value: unknown): value is string {
  return typeof value === "string" && CREDENTIALS_PATTERN.test(value);
}

/**
 * The subprotocols a client offers: `heartline.v1`, then, when it can resume,
 * `heartline.resume` (a new resumable session) or `heartline.resume.<token>`
 * (resume the session of the token from its last `welcome`), then
 * `heartline.auth.<credentials>` when it has credentials.
 *
 * @throws TypeError for a malformed token or credentials: `new WebSocket`
 * would throw on them anyway, with a less helpful message.
 */
export function subprotocolOffers(resume: boolean, token?: string, credentials?: string): string[] {
  const offers = [SUBPROTOCOL];
  if (resume) {
    if (token !== undefined && !isResumeToken(token)) throw new TypeError("malformed resume token");
    offers.push(token === undefined ? RESUME_SUBPROTOCOL : RESUME_TOKEN_OFFER_PREFIX + token);
  }
  if (credentials !== undefined) {
    if (!isCredentials(credentials)) {
      throw new TypeError(`credentials must be ${CREDENTIALS_CHARS}`);
    }
    offers.push(CREDENTIALS_OFFER_PREFIX + credentials);
  }
  return offers;
}

/** What a client offered in `Sec-WebSocket-Protocol`, as the server reads it. */
export interface SubprotocolOffer {
  /** Any subprotocol was offered. */
  readonly offered: boolean;
  /** `heartline.v1` was among them. */
  readonly v1: boolean;
  /**
   * The offer passes the contract's subprotocol check: `heartline.v1` was
   * offered, or nothing was (a plain `new WebSocket(url)`). Otherwise: 400.
   */
  readonly acceptable: boolean;
  /** The client can resume: it offered `heartline.resume` or `heartline.resume.<token>`. */
  readonly resume: boolean;
  /**
   * The text after `heartline.resume.` in the first such offer, or undefined
   * when there was none. It may be malformed (`isResumeToken` says): no
   * session has such a token, so the answer is `resumeFailed: "unknown"`.
   */
  readonly token: string | undefined;
  /**
   * The text after `heartline.auth.` in the first such offer (the client's
   * credentials, for `authenticate`), or undefined when there was none.
   */
  readonly credentials: string | undefined;
}

/**
 * Reads the offered subprotocols: the `Sec-WebSocket-Protocol` header value
 * (comma-separated; Node joins repeated headers with ", "), or the names one
 * by one (the `Set` that `ws`'s `handleProtocols` is given). Names are
 * case-sensitive, as RFC 6455 has them. Never throws.
 */
export function parseSubprotocolOffer(
  offer: string | Iterable<string> | undefined,
): SubprotocolOffer {
  let offered = false;
  let v1 = false;
  let resume = false;
  let token: string | undefined;
  let credentials: string | undefined;
  const names = typeof offer === "string" ? offer.split(",") : (offer ?? []);
  for (const raw of names) {
    const name = raw.trim();
    if (name === "") continue;
    offered = true;
    if (name === SUBPROTOCOL) v1 = true;
    else if (name === RESUME_SUBPROTOCOL) resume = true;
    else if (name.startsWith(RESUME_TOKEN_OFFER_PREFIX)) {
      resume = true;
      // The first token offer counts: a client offers one at most.
      token ??= name.slice(RESUME_TOKEN_OFFER_PREFIX.length);
    } else if (name.startsWith(CREDENTIALS_OFFER_PREFIX)) {
      credentials ??= name.slice(CREDENTIALS_OFFER_PREFIX.length);
    }
  }
  return { offered, v1, acceptable: v1 || !offered, resume, token, credentials };
}

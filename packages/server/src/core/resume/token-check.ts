import { formatToken, newSecret, secretsEqual } from "./token.js";

/**
 * The resume token check (PROTOCOL.md "Resumable sessions"): a session's
 * current secret and, until the connection that was sent it proves alive,
 * the previous one. The order of the whole check (token well formed,
 * session held, secret, window, same client) is `SessionStore.take`'s; this
 * is the part that compares secrets, in constant time, and rotates them.
 * Private fields, so logging a session (util.inspect, JSON) never shows them.
 */
export class TokenSecrets {
  #secret = "";
  // The secret the client presented for the resume that made `#secret`,
  // valid until the connection that was sent `#secret` proves alive: a
  // client that gave up a resume attempt never read that welcome, so it
  // still holds this one ("" when there is none, or it is retired).
  #previous = "";

  /**
   * A fresh secret; the token (`id.secret`) that carries it. `kept` is the
   * secret the client just presented (it surely holds that one): it stays
   * valid until `proven`. Without it, every older token stops working.
   */
  rotate(id: string, kept = ""): string {
    this.#previous = kept;
    this.#secret = newSecret();
    return formatToken(id, this.#secret);
  }

  /**
   * Checks a presented secret against the current one and the previous one
   * (both compared, whatever the first said, in constant time); returns the
   * secret that matched, or "" for none. Never a match once forgotten.
   */
  matches(presented: string): string {
    const current = secretsEqual(this.#secret, presented);
    const previous = secretsEqual(this.#previous, presented);
    if (this.#secret === "") return "";
    if (current) return this.#secret;
    return previous && this.#previous !== "" ? this.#previous : "";
  }

  /** The connection that was sent the current secret proved alive: the previous one stops working. */
  proven(): void {
    this.#previous = "";
  }

  /** The session ended: no secret matches any more. */
  forget(): void {
    this.#secret = "";
    this.#previous = "";
  }
}

// Resume tokens: `<id>.<secret>`. The id finds the session (a map lookup,
// not secret); the secret proves the holder was given it. No `node:`
// imports: the core stays runtime-neutral (Node, Bun, Deno, workers).

import { isResumeToken } from "@heartline/protocol";

/** Bytes of randomness in a secret: 144 bits (≥ 128), 24 base64url characters, no padding. */
export const SECRET_BYTES = 18;
/** Bytes of randomness in a session's lookup id: 72 bits, 12 characters; unique, not secret. */
export const ID_BYTES = 9;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url without padding. Its alphabet has no `.`, which separates id and secret. */
export function base64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** `bytes` random bytes from the platform's CSPRNG, as base64url. */
export function randomBase64url(bytes: number): string {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A fresh secret: `SECRET_BYTES` from `crypto.getRandomValues`. */
export function newSecret(): string {
  return randomBase64url(SECRET_BYTES);
}

/** The token a client is given: `<id>.<secret>` (a store checks the secret itself, in constant time). */
export function formatToken(id: string, secret: string): string {
  return `${id}.${secret}`;
}

export interface ParsedToken {
  readonly id: string;
  readonly secret: string;
}

/**
 * Splits a token into id and secret; undefined for anything that is not a
 * well-formed token (wrong charset, over 200 characters, not exactly one
 * `.` between a non-empty id and a non-empty secret). Never throws.
 */
export function parseToken(token: unknown): ParsedToken | undefined {
  if (!isResumeToken(token)) return undefined;
  const dot = token.indexOf(".");
  if (dot <= 0 || dot === token.length - 1 || token.indexOf(".", dot + 1) !== -1) return undefined;
  return { id: token.slice(0, dot), secret: token.slice(dot + 1) };
}

/**
 * Compares a presented secret with the session's, without an early exit: the
 * loop runs over the expected secret's length (fixed for every session)
 * whatever is presented, so how long it takes says nothing about how many
 * leading characters were right, nor about the presented length. (A JIT
 * gives no hard guarantee; this is as far as JavaScript practically goes.)
 */
export function secretsEqual(expected: string, presented: string): boolean {
  let diff = expected.length ^ presented.length;
  for (let i = 0; i < expected.length; i++) {
    // Past the end, charCodeAt is NaN and `| 0` makes it 0: no branch.
    diff |= expected.charCodeAt(i) ^ (presented.charCodeAt(i) | 0);
  }
  return diff === 0;
}

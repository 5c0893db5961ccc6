import { createHash, timingSafeEqual } from "node:crypto";

// Reading and comparing what the store keeps in a session's hash.

/** The token's secret as stored: its SHA-256, hex. The secret itself is never stored. */
export const sha256 = (secret: string): string => createHash("sha256").update(secret).digest("hex");

/** Compares two stored hashes in constant time (false for an empty one: no such token). */
export function sameHash(a: string, b: string): boolean {
  // Both are 64 hex characters when well formed; timingSafeEqual needs equal lengths.
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** An `HGETALL` reply as a record (ioredis's `call` gives a flat array; a test double may give an object). */
export function hashFields(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(flat)) {
    for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  } else if (flat !== null && typeof flat === "object") {
    for (const [k, v] of Object.entries(flat)) out[k] = String(v);
  }
  return out;
}

import { describe, expect, it } from "vitest";
import {
  base64url,
  formatToken,
  newSecret,
  parseToken,
  SECRET_BYTES,
  secretsEqual,
} from "../../src/core/resume/index.js";

describe("resume tokens", () => {
  it("secrets carry at least 128 bits, in base64url", () => {
    expect(SECRET_BYTES * 8).toBeGreaterThanOrEqual(128);
    const secret = newSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{24}$/);
    // 1,000 secrets, no repeat (a broken generator would repeat at once).
    expect(new Set(Array.from({ length: 1000 }, newSecret)).size).toBe(1000);
  });

  it("encodes base64url like the platform does", () => {
    for (const length of [0, 1, 2, 3, 4, 5, 18, 31]) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length));
      expect(base64url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
    }
    expect(base64url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
  });

  it("round-trips id and secret through the token text", () => {
    const secret = newSecret();
    const token = formatToken("abc_-1", secret);
    expect(parseToken(token)).toEqual({ id: "abc_-1", secret });
  });

  it.each([
    [undefined],
    [""],
    ["nodot"],
    [".secret"],
    ["id."],
    ["a.b.c"],
    ["a b.c"],
    [`a.${"x".repeat(199)}`],
    [7],
  ])("refuses %j", (token) => {
    expect(parseToken(token)).toBeUndefined();
  });

  it("compares secrets exactly, whatever the lengths", () => {
    const secret = newSecret();
    expect(secretsEqual(secret, secret)).toBe(true);
    expect(secretsEqual(secret, `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`)).toBe(
      false,
    );
    expect(secretsEqual(secret, secret.slice(0, -1))).toBe(false);
    expect(secretsEqual(secret, `${secret}A`)).toBe(false);
    expect(secretsEqual(secret, "")).toBe(false);
    expect(secretsEqual("", "")).toBe(true);
    // A NUL past the end must not pass for "nothing there".
    expect(secretsEqual("ab", "ab\u0000")).toBe(false);
    expect(secretsEqual("ab\u0000", "ab")).toBe(false);
  });
});

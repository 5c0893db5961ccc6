// The credentials offer, heartline.auth.<credentials>: what may be offered,
// how a client offers it and how a server reads it back.
import { describe, expect, it } from "vitest";
import {
  CREDENTIALS_OFFER_PREFIX,
  isCredentials,
  parseSubprotocolOffer,
  subprotocolOffers,
} from "../src/index.js";

describe("credentials as a subprotocol", () => {
  it.each([
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"],
    ["base64url", "AZaz09-_"],
    ["every token character", "!#$%&'*+-.^_`|~"],
  ])("accepts %s", (_what, value) => {
    expect(isCredentials(value)).toBe(true);
    expect(subprotocolOffers(false, undefined, value)).toEqual([
      "heartline.v1",
      `heartline.auth.${value}`,
    ]);
  });

  it.each([
    ["standard base64 (/ and =)", "a+b/c=="],
    ["a space", "a b"],
    ["a comma (the header's separator)", "a,b"],
    ["non-ASCII", "jeton-é"],
    ["nothing", ""],
  ])("refuses %s, with a TypeError naming the characters", (_what, value) => {
    expect(isCredentials(value)).toBe(false);
    expect(() => subprotocolOffers(true, undefined, value)).toThrow(
      /credentials must be 1 or more of .*base64url/,
    );
  });

  it("comes after heartline.v1 and the resume offer, and the server reads it back", () => {
    const offers = subprotocolOffers(true, "id.secret", "tok.en");
    expect(offers).toEqual(["heartline.v1", "heartline.resume.id.secret", "heartline.auth.tok.en"]);
    expect(parseSubprotocolOffer(offers.join(", "))).toEqual({
      offered: true,
      v1: true,
      acceptable: true,
      resume: true,
      token: "id.secret",
      credentials: "tok.en",
    });
    expect(CREDENTIALS_OFFER_PREFIX).toBe("heartline.auth.");
  });

  it("reads the first credentials offer, and none when there is none", () => {
    expect(
      parseSubprotocolOffer(["heartline.v1", "heartline.auth.a", "heartline.auth.b"]).credentials,
    ).toBe("a");
    expect(parseSubprotocolOffer("heartline.v1, heartline.resume").credentials).toBeUndefined();
  });
});

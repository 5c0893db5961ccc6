// The contract's *Rate limit*: the server announces its limit in `welcome`
// as `rate: { perSecond, burst }` (both positive), and leaves it out when it
// has none.
import { describe, expect, it } from "vitest";
import { decodeServerFrame } from "../src/index.js";

const welcome = (extra: object) =>
  JSON.stringify({
    type: "welcome",
    protocol: 1,
    sessionId: "s_1",
    heartbeat: { intervalMs: 15000, timeoutMs: 30000 },
    ...extra,
  });

describe("welcome.rate", () => {
  it("is optional, and carried through when present", () => {
    const plain = decodeServerFrame(welcome({}));
    expect(plain.ok && plain.message.type === "welcome" && plain.message.rate).toBe(undefined);
    const rated = decodeServerFrame(welcome({ rate: { perSecond: 50, burst: 100 } }));
    expect(rated).toMatchObject({ ok: true, message: { rate: { perSecond: 50, burst: 100 } } });
  });

  it.each([
    { perSecond: 0, burst: 100 },
    { perSecond: 50, burst: -1 },
    { perSecond: 50 },
    { perSecond: "50", burst: 100 },
  ])("refuses rate %j", (rate) => {
    expect(decodeServerFrame(welcome({ rate }))).toMatchObject({ ok: false });
  });
});

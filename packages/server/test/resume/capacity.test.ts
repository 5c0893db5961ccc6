// Issue 15 × issue 13: a resumed connection takes a capacity place like any
// other, and a resume refused by capacity (or by authenticate) has not spent
// its token, since admission reads the offer last and `accept` spends it.
import { subprotocolOffers, type WelcomeMessage } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import { FakeServerTransport } from "../../../testing/src/fake-transport.js";
import { type Admission, createServerCore, type UpgradeRejection } from "../../src/core/index.js";
import { fakeClock } from "../helpers.js";

function setup(options: { authenticate?: () => unknown } = {}) {
  const { clock } = fakeClock();
  let ids = 0;
  const rejections: UpgradeRejection[] = [];
  const core = createServerCore({
    clock,
    intervalMs: 1000,
    generateSessionId: () => `s${++ids}`,
    resume: { windowMs: 10_000 },
    maxConnections: 2,
    ...options,
    on: { upgradeRejected: (r) => rejections.push(r) },
  });
  /** Through admission, then `accept` with what the verdict carries; the welcome, or the refusal. */
  const connect = async (address: string, token?: string) => {
    const protocols = subprotocolOffers(true, token).join(", ");
    const headers = { host: "app.example", "sec-websocket-protocol": protocols };
    const verdict: Admission<unknown> = await core.admit({
      url: "/ws",
      headers,
      remoteAddress: address,
      raw: { headers },
    });
    if (verdict.kind !== "accepted") return { verdict };
    const transport = new FakeServerTransport();
    const sink = core.accept(transport, {
      remoteAddress: verdict.remoteAddress,
      auth: verdict.auth,
      resume: verdict.resume,
    });
    return { verdict, sink, welcome: transport.sent[0] as WelcomeMessage };
  };
  return { core, connect, rejections };
}

const tokenOf = (welcome: WelcomeMessage | undefined): string => {
  const token = welcome?.resume?.token;
  if (token === undefined) throw new Error("no resume token in the welcome");
  return token;
};

describe("resume and capacity", () => {
  it("a resumed connection holds a place: with it back, the next upgrade is refused 503", async () => {
    const { core, connect } = setup();
    const a = await connect("10.0.0.1");
    await connect("10.0.0.2");
    a.sink?.closed(1006, false);
    const back = await connect("10.0.0.1", tokenOf(a.welcome));
    expect(back.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(core.stats()).toMatchObject({ open: 2, sessions: { resumed: 1 } });
    expect((await connect("10.0.0.3")).verdict).toMatchObject({
      kind: "refused",
      status: 503,
      reason: "server_full",
    });
  });

  it("a resume refused 503 has not spent its token: the same token resumes once a place is free", async () => {
    const { core, connect, rejections } = setup();
    const a = await connect("10.0.0.1");
    const b = await connect("10.0.0.2");
    a.sink?.closed(1006, false);
    await connect("10.0.0.3");
    const token = tokenOf(a.welcome);
    expect((await connect("10.0.0.1", token)).verdict).toMatchObject({ status: 503 });
    expect(rejections).toMatchObject([{ status: 503, reason: "server_full" }]);
    b.sink?.closed(1000, true);
    const back = await connect("10.0.0.1", token);
    expect(back.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(back.welcome?.resumeFailed).toBeUndefined();
    expect(core.stats().sessions.resumed).toBe(1);
  });

  it("a resume refused 401 by authenticate has not spent its token either", async () => {
    let allow = true;
    const { connect } = setup({ authenticate: () => (allow ? { user: "u" } : false) });
    const a = await connect("10.0.0.1");
    a.sink?.closed(1006, false);
    const token = tokenOf(a.welcome);
    allow = false;
    expect((await connect("10.0.0.1", token)).verdict).toMatchObject({ status: 401 });
    allow = true;
    const back = await connect("10.0.0.1", token);
    expect(back.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
  });
});

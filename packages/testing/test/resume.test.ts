// Resume through the harness, on both transports: the offered subprotocols
// reach the server's real admission, the server's `resume` option is passed
// through, and the timeline records the resume events. With the option off,
// plain v1 as before.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, type TimelineEntry } from "../src/index.js";

const X = 1000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const welcomes = (entries: readonly TimelineEntry[]) =>
  entries
    .filter((e) => e.kind === "frame" && e.direction === "toClient" && e.type === "welcome")
    .map((e) => JSON.parse((e as { text: string }).text) as Record<string, unknown>);

describe.each(["memory", "loopback"] as const)("resume through the harness (%s)", (transport) => {
  it("resume on: a fresh offer, a token in the welcome, and a dropped client resumes its session", async () => {
    h = await createHarness({ transport, server: { intervalMs: X, resume: { windowMs: 10_000 } } });
    const c = await h.client({ reconnect: { baseMs: 100, capMs: 100 } });
    await h.waitFor.clientState(c, "open");
    const sessionId = c.sessionId;
    const [first] = welcomes(h.timeline.entries);
    expect(first).toMatchObject({ sessionId, resume: { windowMs: 10_000 } });
    expect(first?.resumed).toBeUndefined();

    c.abort();
    const gone = await h.waitFor.disconnect({ client: c }, { within: 0 });
    expect(gone).toMatchObject({ reason: "connection_lost", resumable: true });
    const resumed = await h.waitFor.clientEvent(c, "resumed", undefined, { within: 5 * X });
    expect(resumed.payload).toMatchObject({ sessionId, replayed: 0 });
    const server = await h.waitFor.entry((e) => e.kind === "server" && e.event === "resume", {
      since: gone.at,
    });
    expect(server.kind === "server" && server.payload).toMatchObject({ sessionId });
    const second = welcomes(h.timeline.entries)[1];
    expect(second).toMatchObject({ sessionId, resumed: { ack: 0 } });
    // A fresh token on every welcome.
    const tokenOf = (welcome: typeof first): unknown =>
      (welcome?.resume as { token?: string } | undefined)?.token;
    expect(tokenOf(second)).toEqual(expect.any(String));
    expect(tokenOf(second)).not.toBe(tokenOf(first));
    if (transport === "memory") {
      const offers = h.timeline.entries
        .filter((e) => e.kind === "link" && e.what.includes("connect (offers"))
        .map((e) => (e as { what: string }).what);
      expect(offers[0]).toContain("heartline.v1, heartline.resume");
      expect(offers[1]).toMatch(/heartline\.resume\.\S+/);
    }
  });

  it("resume off (the default): plain v1, a dropped client starts a new session", async () => {
    h = await createHarness({ transport, server: { intervalMs: X } });
    const c = await h.client({ reconnect: { baseMs: 100, capMs: 100 } });
    await h.waitFor.clientState(c, "open");
    const first = c.sessionId;
    expect(welcomes(h.timeline.entries)[0]?.resume).toBeUndefined();
    c.abort();
    await h.waitFor.clientEvent(c, "open", (p) => p.sessionId !== first, { within: 5 * X });
    expect(h.timeline.entries.some((e) => e.kind === "server" && e.event === "resume")).toBe(false);
  });
});

// resumed.gapMs is the gap the user lived through. The case, on the
// harness's fake time: a tab frozen 10 s (timeout 4 s) used to report 77 ms
// (from the late disconnect to the welcome) while the server logged 6,102.
// Now the client counts from the last frame heard on the old connection.
// The server's `resume` gapMs counts from when it saw the connection end
// (its own silence verdict, timeoutMs after the last frame it heard), so
// the client's is the server's plus about timeoutMs.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../src/index.js";

const X = 2000; // timeout 4 s
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each(["memory", "loopback"] as const)("resumed.gapMs after a freeze (%s)", (transport) => {
  it("counts the frozen seconds; the server's gapMs is shorter by its detection time", async () => {
    h = await createHarness({ transport, server: { intervalMs: X, resume: { windowMs: 60_000 } } });
    const c = await h.client({ reconnect: { baseMs: 100, capMs: 100 } });
    await h.waitFor.clientState(c, "open");
    await h.advance(X + 10); // a ping and its pong: the last frames heard before the freeze
    const frozenAt = h.now;
    c.freeze();
    await h.advance(10_000);
    c.resume();
    const resumed = await h.waitFor.clientEvent(c, "resumed", undefined, { within: 5 * X });
    const server = await h.waitFor.entry((e) => e.kind === "server" && e.event === "resume");
    const serverGap = (server as { payload: { gapMs: number } }).payload.gapMs;
    // The tab was frozen 10 s; the gap counts from the last pong heard before it.
    expect(resumed.payload.gapMs).toBeGreaterThanOrEqual(10_000);
    expect(resumed.payload.gapMs).toBeLessThan(10_000 + X);
    const timeoutMs = 2 * X;
    expect(resumed.payload.gapMs - serverGap).toBeGreaterThanOrEqual(timeoutMs - X / 2);
    expect(resumed.payload.gapMs - serverGap).toBeLessThan(timeoutMs + X / 2);
    expect(h.now - frozenAt).toBeGreaterThanOrEqual(10_000);
  });
});

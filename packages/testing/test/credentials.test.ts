// Credentials through the harness, on both transports: a credentials
// function is asked for every attempt, resumes included, and the server's
// authenticate reads each with credentialsOf (the offer reaches admission).
import { credentialsOf } from "@heartline/server";
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../src/index.js";

const X = 1000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each(["memory", "loopback"] as const)("credentials (%s)", (transport) => {
  it("a fresh token for every attempt, the resume included; the session survives", async () => {
    const seen: Array<string | undefined> = [];
    h = await createHarness({
      transport,
      server: {
        intervalMs: X,
        resume: { windowMs: 10_000 },
        authenticate: (request: Parameters<typeof credentialsOf>[0]) => {
          const token = credentialsOf(request);
          seen.push(token);
          return token?.startsWith("ok-") ? { user: "ann" } : false;
        },
      },
    });
    let n = 0;
    const c = await h.client({
      credentials: async () => `ok-${++n}`,
      reconnect: { baseMs: 100, capMs: 100 },
    });
    await h.waitFor.clientState(c, "open");
    const sessionId = c.sessionId;
    c.abort();
    const resumed = await h.waitFor.clientEvent(c, "resumed", undefined, { within: 5 * X });
    expect(resumed.payload.sessionId).toBe(sessionId);
    // Each attempt that reached the server brought the token made for it.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(seen.map((_, i) => `ok-${i + 1}`));
    expect(n).toBe(seen.length);
  });
});

// Issue 21, point 2: the two sides' defaults must never collide. A real
// client on its defaults against a server on its defaults, on the harness's
// fake clock: a full outbox flushed on connect, and a burst of sends as fast
// as the application can, are never closed 4429 (the server's half). Then
// every pair the client README's "Defaults that depend on each other" lists,
// checked value against value (the client's half; the pacing behind the rate
// pair is tests/rate-defaults.test.ts).
import { clientDefaults } from "@heartline/client";
import { ACK_EVERY_MESSAGES, CloseCode } from "@heartline/protocol";
import { resumeDefaults, serverDefaults } from "@heartline/server";
import { createHarness, type Harness } from "@heartline/testing";
import { afterEach, describe, expect, it } from "vitest";

let h: Harness<number, number> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const OUTBOX = clientDefaults.outbox.maxMessages;

it("the server's default burst holds the client's full default outbox, its ping and an ack", () => {
  expect(serverDefaults.rateLimit.burst).toBeGreaterThanOrEqual(OUTBOX + 2);
});

describe.each([
  ["plain v1", undefined],
  ["resumption on", {}],
] as const)("client and server on defaults (%s)", (_name, resume) => {
  it("a full default outbox flushed on connect, with a ping and an ack at the same moment: no 4429, every message arrives", async () => {
    const received: number[] = [];
    h = await createHarness<number, number>({
      server: {
        // Only what the test needs: the rate limits, the outbox and every bound stay at their defaults.
        ...(resume === undefined ? {} : { resume }),
        on: {
          message: (_conn, n) => void received.push(n),
          // On a resumable session 32 messages make the client ack at once (the contract's cadence).
          connection: (conn) => {
            if (resume !== undefined) for (let i = 0; i < 32; i++) conn.send(i);
          },
        },
      },
    });
    const c = await h.client<number, number>({ connect: false });
    c.connect();
    // Queued while connecting (before the welcome): the whole default outbox.
    expect(c.state).toBe("connecting");
    for (let i = 0; i < OUTBOX; i++) expect(c.send(i)).toBe(true);
    await h.waitFor.clientState(c, "open", { within: 1000 });
    // The page comes back to the foreground: a ping now, on top of the flush.
    c.visible();
    await h.advance(0);
    // The client paces to half the announced burst: that many frames (the
    // flush, the ping, an ack) go at once, the rest as tokens come.
    const frames = h.server.stats().framesIn;
    expect(frames).toBe(serverDefaults.rateLimit.burst / 2);
    await h.expectNo.disconnect({ client: c }, { within: serverDefaults.intervalMs });
    expect(received).toEqual(Array.from({ length: OUTBOX }, (_, i) => i));
    expect(h.server.stats().disconnects.rate_limited).toBe(0);
  });
});

describe("client and server on defaults, resumption on", () => {
  // Plain v1 has no outbox bound on an open connection: holding 1,000 sends
  // back is the client's pacing to `welcome.rate` (the client's half of the
  // point, tested with the client).
  it("1,000 sends as fast as the application can: the outbox refuses past its bound, never closed 4429", async () => {
    h = await createHarness<number, number>({ server: { resume: {} } });
    const c = await h.client<number, number>();
    await h.waitFor.clientState(c, "open", { within: 1000 });
    const closes: number[] = [];
    c.on("disconnect", (d) => void (d.code === undefined || closes.push(d.code)));
    for (let i = 0; i < 1000; i++) c.send(i);
    await h.advance(2 * serverDefaults.intervalMs);
    expect(closes).not.toContain(CloseCode.RateLimited);
    expect(h.server.stats().disconnects.rate_limited).toBe(0);
  });
});

describe("default pairs", () => {
  it("the client waits for a welcome longer than the server may spend in authenticate", () => {
    expect(clientDefaults.connectTimeoutMs).toBeGreaterThan(serverDefaults.authenticateTimeoutMs);
  });

  it("the client's held messages outnumber one ack batch, so a slow sender never waits a beat for its ack", () => {
    expect(clientDefaults.outbox.maxMessages).toBeGreaterThan(ACK_EVERY_MESSAGES);
  });

  it("the paced client keeps half the server's burst spare, covering at least 2 s of jitter", () => {
    const { burst, perSecond } = serverDefaults.rateLimit;
    const spare = burst - Math.max(1, Math.floor(burst / 2));
    expect(spare / perSecond).toBeGreaterThanOrEqual(2);
    // Pings alone (one per interval) are far below the sustained rate.
    expect(1000 / serverDefaults.intervalMs).toBeLessThan(perSecond / 100);
  });

  it("a resume can start inside the window: worst backoffs plus connect timeouts leave attempts in it", () => {
    const { baseMs, capMs } = clientDefaults.reconnect;
    let at = 0;
    let attempts = 0;
    // Every attempt blackholed (the slowest failure) and every draw the longest.
    for (let n = 0; ; n++) {
      at += Math.min(capMs, baseMs * 2 ** n);
      if (at >= resumeDefaults.windowMs) break;
      attempts++;
      at += clientDefaults.connectTimeoutMs;
    }
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(serverDefaults.reconnectWindow.maxMs).toBeLessThan(resumeDefaults.windowMs);
  });

  it("the silence verdict is twice the ping interval, and the client takes both from the welcome", () => {
    expect(serverDefaults.timeoutMs).toBe(2 * serverDefaults.intervalMs);
    expect(Object.keys(clientDefaults)).not.toContain("intervalMs");
    expect(Object.keys(clientDefaults)).not.toContain("timeoutMs");
  });
});

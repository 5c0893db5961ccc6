// The client's and the server's defaults, pair by pair, as the client
// README's "Defaults that depend on each other" lists them (issue 21 point
// 2): a change to one side that breaks its pair fails here, not in a user's
// production. The behaviour behind the rate pair is tests/rate-defaults.test.ts.
import { clientDefaults } from "@heartline/client";
import { ACK_EVERY_MESSAGES } from "@heartline/protocol";
import { resumeDefaults, serverDefaults } from "@heartline/server";
import { describe, expect, it } from "vitest";

describe("default pairs", () => {
  it("the client waits for a welcome longer than the server may spend in authenticate", () => {
    expect(clientDefaults.connectTimeoutMs).toBeGreaterThan(serverDefaults.authenticateTimeoutMs);
  });

  it("the client's held messages outnumber one ack batch, so a slow sender never waits a beat for its ack", () => {
    expect(clientDefaults.outbox.maxMessages).toBeGreaterThan(ACK_EVERY_MESSAGES);
  });

  it("the paced client keeps half the server's burst spare, covering at least 1 s of jitter", () => {
    const { burst, perSecond } = serverDefaults.rateLimit;
    const spare = burst - Math.max(1, Math.floor(burst / 2));
    expect(spare / perSecond).toBeGreaterThanOrEqual(1);
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

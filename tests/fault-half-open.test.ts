// Case 1: half-open connections. A TCP proxy between a real client and a
// server process stops forwarding both ways while both sockets stay open:
// neither end gets a FIN or RST, only silence. The server must report exactly
// one `timeout` within 2X + TOLERANCE_MS of the last data frame, the client
// must give up on the server within its timeout, and it must come back once
// the path heals.
import { createClient, type HeartlineClient } from "@heartline/client";
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import { type LoopbackProxy, startLoopbackProxy } from "@heartline/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEvent } from "./support/client-events.js";
import { killAllChildren } from "./support/json-lines-child.js";
import { report } from "./support/measure.js";
import { type ServerChild, startServerChild } from "./support/server-child.js";

const intervalMs = 200; // X
const timeoutMs = 2 * intervalMs;
/**
 * How late a report may come after its deadline. The server README states
 * 50 ms for a loaded but healthy process; this runs in a child process on a
 * 2-core machine beside other suites, so three times that.
 */
const TOLERANCE_MS = 150;
const rounds = 3;

describe("half-open connections through a blackholing proxy", () => {
  let server: ServerChild;
  let proxy: LoopbackProxy;
  let client: HeartlineClient | undefined;

  beforeAll(async () => {
    server = await startServerChild({ port: 0, intervalMs });
    // Discard: what is sent into the dead path is lost for good (a dead NAT
    // entry), so the attempts made during the blackhole get nowhere even after it.
    proxy = await startLoopbackProxy({ targetPort: server.port, whileBlackholed: "discard" });
  }, 40_000);

  afterAll(async () => {
    client?.close();
    await proxy?.close();
    await killAllChildren();
  });

  it(`server reports one timeout within 2X + ${TOLERANCE_MS} ms; client detects, reconnects after heal`, async () => {
    const figures: Array<{ server: number; lateness: number; client: number; back: number }> = [];
    client = createClient({
      url: `ws://127.0.0.1:${proxy.port}/ws`,
      // Short, so attempts during the blackhole fail fast and the one after the heal is quick.
      connectTimeoutMs: 600,
      reconnect: { baseMs: 100, capMs: 400, stableAfterMs: 100 },
    });
    const firstOpen = nextEvent(client, "open");
    client.connect();
    let sessionId = (await firstOpen).payload.sessionId;

    for (let round = 0; round < rounds; round++) {
      await server.waitFor("the connect", (l) => l.type === "connect" && l.sessionId === sessionId);
      // The heartbeat is flowing both ways before the path dies.
      await nextEvent(client, "pong");

      const clientGaveUp = nextEvent(client, "disconnect");
      proxy.blackhole();
      const blackholedAt = Date.now();

      const gone = await server.disconnectOf(sessionId, 5000);
      expect(gone).toMatchObject({
        reason: DisconnectReason.Timeout,
        code: CloseCode.HeartbeatTimeout,
      });
      const lateness = gone.t - (gone.lastHeardAt + timeoutMs);
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThanOrEqual(TOLERANCE_MS);
      expect(gone.t - blackholedAt).toBeLessThanOrEqual(timeoutMs + TOLERANCE_MS);

      const { payload, at } = await clientGaveUp;
      expect(payload).toMatchObject({ reason: DisconnectReason.Timeout, willReconnect: true });
      expect(at - blackholedAt).toBeLessThanOrEqual(timeoutMs + TOLERANCE_MS);
      expect(client.state).toBe("reconnecting");

      // While the path stays dead, an attempt gets nowhere (no welcome through a blackhole).
      const failed = await nextEvent(client, "disconnect", undefined, 5000);
      expect(failed.payload.reason).toBe(DisconnectReason.Timeout);
      expect(client.state).toBe("reconnecting");

      const reopened = nextEvent(client, "open", undefined, 5000);
      proxy.heal();
      const healedAt = Date.now();
      const back = await reopened;
      expect(back.payload.sessionId).not.toBe(sessionId);

      // Exactly one report for the dead session, and nothing else reported meanwhile.
      expect(server.disconnects().filter((d) => d.sessionId === sessionId)).toHaveLength(1);
      expect(server.disconnects()).toHaveLength(round + 1);
      figures.push({
        server: gone.t - blackholedAt,
        lateness,
        client: at - blackholedAt,
        back: back.at - healedAt,
      });
      sessionId = back.payload.sessionId;
    }

    const open = await server.open();
    expect(open.sessions).toEqual([sessionId]);
    const max = (k: keyof (typeof figures)[number]) => Math.max(...figures.map((f) => f[k]));
    report("half-open", {
      intervalMs,
      timeoutMs,
      toleranceMs: TOLERANCE_MS,
      rounds,
      serverDetectMs: figures.map((f) => f.server),
      serverLatenessMs: figures.map((f) => f.lateness),
      clientDetectMs: figures.map((f) => f.client),
      reconnectAfterHealMs: figures.map((f) => f.back),
      maxServerDetectMs: max("server"),
      maxClientDetectMs: max("client"),
    });
  }, 40_000);
});

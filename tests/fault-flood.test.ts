// Case 4: floods and isolation. One client (in its own process) floods the
// server with messages, reconnecting each time it is cut off, for a bounded
// time; meanwhile well-behaved clients keep pinging. Every flooding
// connection must be closed 4429 and reported `rate_limited` once; the
// well-behaved clients' pongs must stay quick and none may be disconnected.
import { createClient, type HeartlineClient } from "@heartline/client";
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import { serverDefaults } from "@heartline/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEvent } from "./support/client-events.js";
import type { FloodConfig } from "./support/flood-process.js";
import { killAllChildren, spawnJsonLinesChild } from "./support/json-lines-child.js";
import { percentile, report } from "./support/measure.js";
import { type ServerChild, startServerChild } from "./support/server-child.js";

const intervalMs = 200; // X
const wellBehaved = 20;
const floodMs = 3000;
/**
 * The bound on the well-behaved clients' p99 round trip under the flood: a
 * quarter of X. Unloaded, a loopback pong takes about a millisecond; the
 * rest is room for a shared 2-core machine.
 */
const P99_BOUND_MS = intervalMs / 4;

describe("one client floods, the others are isolated from it", () => {
  let server: ServerChild;
  const clients: HeartlineClient[] = [];

  beforeAll(async () => {
    // The default rate limit (burst 200, 50/s), as shipped.
    server = await startServerChild({ port: 0, intervalMs });
  }, 40_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await killAllChildren();
  });

  it(`the flooder gets 4429 each time; p99 pong RTT of the rest stays under ${P99_BOUND_MS} ms`, async () => {
    const samples: Array<{ at: number; rttMs: number }> = [];
    const disconnects: unknown[] = [];
    const opened = [];
    for (let i = 0; i < wellBehaved; i++) {
      const client = createClient({
        url: server.url,
        on: {
          pong: ({ rttMs }) => samples.push({ at: Date.now(), rttMs }),
          disconnect: (d) => disconnects.push(d),
        },
      });
      clients.push(client);
      opened.push(nextEvent(client, "open"));
      client.connect();
    }
    const sessions = (await Promise.all(opened)).map((o) => o.payload.sessionId);
    await Promise.all(clients.map((c) => nextEvent(c, "pong")));

    const config: FloodConfig = {
      url: server.url,
      durationMs: floodMs,
      maxConnections: 500,
      payloadBytes: 1024,
    };
    const flooder = await spawnJsonLinesChild("./flood-process.ts", {
      name: "flooder",
      env: { HL_FLOOD: JSON.stringify(config) },
    });
    const done = await flooder.waitFor("the flood to end", (l) => l.type === "done", {
      timeoutMs: floodMs + 30_000,
    });
    // The pongs that came back while the flood was on.
    const floodStart = (await flooder.waitFor("the first flood", (l) => l.type === "flood-open"))
      .receivedAt;
    const rtts = samples
      .filter((s) => s.at >= floodStart && s.at <= done.receivedAt)
      .map((s) => s.rttMs);

    const floods = flooder.lines.filter((l) => l.type === "flood-closed");
    expect(floods.length).toBeGreaterThan(1);
    for (const f of floods) expect(f.code).toBe(CloseCode.RateLimited);
    for (const f of floods) {
      const gone = await server.disconnectOf(f.sessionId as string);
      expect(gone).toMatchObject({
        reason: DisconnectReason.RateLimited,
        code: CloseCode.RateLimited,
      });
    }
    // Nobody else was disconnected, and no flood session was reported twice.
    expect(server.disconnects()).toHaveLength(floods.length);
    expect(disconnects).toEqual([]);
    const open = await server.open();
    expect(open.sessions.sort()).toEqual([...sessions].sort());

    // Each well-behaved client kept pinging all along (X = 200 ms, for about 3 s).
    expect(rtts.length).toBeGreaterThan(
      (wellBehaved * (done.receivedAt - floodStart)) / intervalMs / 2,
    );
    const p99 = percentile(rtts, 99);
    expect(p99).toBeLessThan(P99_BOUND_MS);
    report("flood", {
      intervalMs,
      rateLimit: serverDefaults.rateLimit,
      floodMs: done.receivedAt - floodStart,
      floodConnections: floods.length,
      floodMessagesSent: done.sent,
      wellBehavedClients: wellBehaved,
      pongs: rtts.length,
      rttP50Ms: percentile(rtts, 50),
      rttP99Ms: p99,
      rttMaxMs: Math.max(...rtts),
      p99BoundMs: P99_BOUND_MS,
    });
  }, 60_000);
});

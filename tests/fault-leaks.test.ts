// Case 7: leaks. A server process (run with --expose-gc) goes through a churn
// of clients connecting, sending, timing out, reconnecting and leaving; once
// they have all gone, its active handles and timers must be back to their
// starting counts exactly, and its heap after GC back within HEAP_BOUND_BYTES
// of where it started.
import { createClient, type HeartlineClient } from "@heartline/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEvent } from "./support/client-events.js";
import { killAllChildren, type Line } from "./support/json-lines-child.js";
import { report } from "./support/measure.js";
import { type ServerChild, startServerChild } from "./support/server-child.js";

const intervalMs = 100; // X: a paused client is timed out after 200 ms
const clientCount = 60;
/**
 * Each churn is a number of connections, not a duration, so a slow machine
 * runs the same work, only longer: the warm-up compiles as much code and the
 * measured churn gives a leak as many chances.
 */
const warmUpConnections = 600;
const churnConnections = 1800;
/**
 * Heap after GC may still differ from the (warmed-up) start by V8's own
 * bookkeeping: optimized code, inline caches, string tables. The churn runs
 * 1,800 connections, so a leak of 600 bytes per connection would exceed this
 * bound.
 */
const HEAP_BOUND_BYTES = 1024 * 1024;
/** How long handles and timers may take to go back after the last report (sockets closing). */
const SETTLE_MS = 10_000;

interface Probe extends Line {
  resources: Record<string, number>;
  heapUsed: number;
  spaces: Record<string, number>;
  gc: boolean;
}

describe("no leaks after a churn", () => {
  let server: ServerChild;
  const clients: HeartlineClient[] = [];

  beforeAll(async () => {
    server = await startServerChild({ port: 0, intervalMs }, { exposeGc: true });
  }, 40_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await killAllChildren();
  });

  /** Resolves once the server has reported as many disconnects as it had connects. */
  const allGone = () =>
    server.waitFor(
      "every connection reported gone",
      () =>
        server.lines.filter((l) => l.type === "disconnect").length ===
        server.lines.filter((l) => l.type === "connect").length,
      { timeoutMs: 20_000 },
    );

  /**
   * One churn: clients connect, send, go silent (timeout → reconnect) or
   * leave and come back, until the server has accepted `connections` more.
   */
  async function churn(connections: number, count: number): Promise<void> {
    let stopping = false;
    const mark = server.lines.length;
    const batch: HeartlineClient[] = [];
    for (let i = 0; i < count; i++) {
      let cycle = 0;
      const client: HeartlineClient = createClient({
        url: server.url,
        connectTimeoutMs: 2000,
        reconnect: { baseMs: 50, capMs: 200, stableAfterMs: 100 },
        on: {
          open: () => {
            client.heartbeat.resume();
            for (let k = 0; k < 3; k++) client.send({ i, cycle, k });
            const action = (i + cycle++) % 3;
            // A load generator's pacing, not a wait for an outcome.
            setTimeout(
              () => {
                if (stopping || client.state !== "open") return;
                if (action === 0) client.heartbeat.pause(); // the server times it out; it reconnects
                if (action === 1) {
                  client.close(); // leaves, and comes straight back
                  client.connect();
                }
                if (action === 2) {
                  // Leaves with an application code, and comes back a little later.
                  client.close(4001, "bye");
                  setTimeout(() => !stopping && client.connect(), 50);
                }
              },
              50 + ((i * 37 + cycle * 11) % 150),
            );
          },
        },
      });
      batch.push(client);
      clients.push(client);
      client.connect();
    }
    await server.waitForCount("the churn's connections", (l) => l.type === "connect", connections, {
      from: mark,
      timeoutMs: 90_000,
    });
    stopping = true;
    for (const c of batch) c.close();
    await allGone();
  }

  /**
   * Probes until handles and timers are back to `baseline` (an upgrade the
   * churn abandoned may still be closing: each probe is an answer awaited,
   * not a sleep), or SETTLE_MS passed: then the last probe, which differs.
   */
  async function settledProbe(baseline: Record<string, number>): Promise<Probe> {
    const until = Date.now() + SETTLE_MS;
    for (;;) {
      const probe = (await server.request("probe")) as Probe;
      if (JSON.stringify(probe.resources) === JSON.stringify(baseline) || Date.now() > until)
        return probe;
    }
  }

  it(`handles and timers return to their start, heap within ${HEAP_BOUND_BYTES} bytes`, async () => {
    // Warm-up: the same churn for 600 connections, so the code V8 compiles and the caches
    // it fills on the way (about 0.4 MB, measured) are in the baseline.
    const initial = (await server.request("probe")) as Probe;
    await churn(warmUpConnections, clientCount);
    const before = await settledProbe(initial.resources);
    expect(before.gc).toBe(true);
    const mark = server.lines.length;
    const connectsBefore = server.lines.filter((l) => l.type === "connect").length;

    await churn(churnConnections, clientCount);
    const connections = server.lines.filter((l) => l.type === "connect").length - connectsBefore;
    const reasons: Record<string, number> = {};
    for (const l of server.lines.slice(mark)) {
      if (l.type === "disconnect")
        reasons[l.reason as string] = (reasons[l.reason as string] ?? 0) + 1;
    }
    // The churn really did all of it.
    expect(reasons.timeout).toBeGreaterThan(10);
    expect(reasons.client_closed).toBeGreaterThan(10);
    expect(connections).toBeGreaterThanOrEqual(churnConnections);

    const after = await settledProbe(before.resources);
    const open = await server.open();
    expect(open.sessions).toEqual([]);
    expect(after.resources).toEqual(before.resources);
    const heapGrowth = after.heapUsed - before.heapUsed;
    expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);

    // A client can still connect afterwards.
    const probeClient = createClient({ url: server.url });
    clients.push(probeClient);
    const opened = nextEvent(probeClient, "open");
    probeClient.connect();
    await opened;

    report("leaks", {
      intervalMs,
      warmUpConnections,
      clients: clientCount,
      connectionsChurned: connections,
      reportsByReason: reasons,
      resourcesBefore: before.resources,
      resourcesAfter: after.resources,
      heapBeforeBytes: before.heapUsed,
      heapAfterBytes: after.heapUsed,
      heapGrowthBytes: heapGrowth,
      heapGrowthBySpace: Object.fromEntries(
        Object.entries(after.spaces).map(([space, used]) => [
          space,
          used - (before.spaces[space] ?? 0),
        ]),
      ),
      heapBoundBytes: HEAP_BOUND_BYTES,
    });
  }, 240_000);
});

// Issue 24: presence tells an operator how it stands with Redis (the `state`
// event, stats, metrics), survives Redis being down at boot (subscribe waits
// rather than rejecting; nothing unhandled), and the node_lost bound is
// checked at its boundary: not while the lost node's key lives, not before
// the first survivor heartbeat after it lapses, and at that heartbeat.
import { clockOf } from "@heartline/protocol";
import {
  DataPointType,
  MeterProvider,
  type MetricData,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import FakeTimers from "@sinonjs/fake-timers";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  attachPresence,
  createPresenceReader,
  instrumentPresence,
  type Presence,
  type PresenceEvent,
  PresenceMetric,
  type PresenceState,
} from "../src/index.js";
import { type FakeConn, FakeServer } from "./support/fake-server.js";
import {
  connectRedis,
  ownRedis,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
  waitFor,
} from "./support/redis-env.js";

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function figures(reader: TestReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics as MetricData[]) {
      if (metric.dataPointType === DataPointType.HISTOGRAM) continue;
      out[metric.descriptor.name] = metric.dataPoints[0]?.value as number;
    }
  }
  return out;
}

describe.skipIf(skipRedisTests)("presence health (an own redis-server)", () => {
  it("Redis stopped and restarted under two nodes: one disconnected and one connected each, metrics follow, both resync", async () => {
    requireRedisUrl();
    const own = ownRedis();
    await own.start();
    const clients = [await connectRedis(own.url), await connectRedis(own.url)];
    const kp = uniquePrefix("health");
    const servers = [new FakeServer(), new FakeServer()];
    const states: string[][] = [[], []];
    const nodes: Presence[] = [];
    for (const i of [0, 1]) {
      nodes.push(
        await attachPresence<FakeConn>(servers[i]!, {
          redis: clients[i]!,
          keyPrefix: kp,
          identify: (c) => c.auth.user,
          nodeId: `n${i}`,
          nodeTtlMs: 1500,
          nodeHeartbeatMs: 300,
          on: { state: (s) => states[i]!.push(`${s.previous}>${s.state}`) },
        }),
      );
    }
    const reader = new TestReader();
    const stop = instrumentPresence(nodes[0]!, {
      meterProvider: new MeterProvider({ readers: [reader] }),
    });
    try {
      servers[0]!.connect("a");
      servers[1]!.connect("b");
      await Promise.all(nodes.map((n) => n.flush(2000)));
      expect(nodes.map((n) => n.state)).toEqual(["connected", "connected"]);
      expect(await figures(reader)).toMatchObject({
        [PresenceMetric.Connected]: 1,
        [PresenceMetric.Registered]: 1,
        [PresenceMetric.Buffered]: 0,
        [PresenceMetric.Outages]: 0,
      });
      const resyncsBefore = nodes.map((n) => n.stats().resyncs);

      await own.stop();
      await waitFor("both nodes to see the outage", () =>
        nodes.every((n) => n.state === "disconnected"),
      );
      servers[0]!.connect("c"); // buffered while Redis is down
      const down = await figures(reader);
      expect(down[PresenceMetric.Connected]).toBe(0);
      expect(down[PresenceMetric.Buffered]).toBeGreaterThanOrEqual(1);
      expect(down[PresenceMetric.Outages]).toBe(1);

      await own.start();
      await waitFor(
        "both nodes back and resynced",
        () =>
          nodes.every((n, i) => n.state === "connected" && n.stats().resyncs > resyncsBefore[i]!) &&
          nodes[0]!.stats().buffered === 0,
        10_000,
      );
      // However often ioredis retried meanwhile: one change each way per node.
      expect(states).toEqual([
        ["connected>disconnected", "disconnected>connected"],
        ["connected>disconnected", "disconnected>connected"],
      ]);
      expect((await nodes[1]!.list()).map((e) => e.identity).sort()).toEqual(["a", "b", "c"]);
      const up = await figures(reader);
      expect(up).toMatchObject({
        [PresenceMetric.Connected]: 1,
        [PresenceMetric.Registered]: 1,
        [PresenceMetric.Buffered]: 0,
        [PresenceMetric.Outages]: 1,
      });
      expect(up[PresenceMetric.Resyncs]).toBe(nodes[0]!.stats().resyncs);
    } finally {
      stop();
      for (const n of nodes) await n.close({ timeoutMs: 300 });
      expect(nodes[0]!.state).toBe("closed");
      for (const c of clients) c.disconnect();
      await own.dispose();
    }
  });

  it("Redis down at boot: attachPresence resolves, subscribe waits (no rejection, nothing unhandled), and all starts once Redis does", async () => {
    requireRedisUrl();
    const own = ownRedis(); // not started yet: its socket does not exist
    // Fails a queued command after one retry (MaxRetriesPerRequestError), fast.
    const redis = new Redis(own.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    redis.on("error", () => {});
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const server = new FakeServer();
    const states: PresenceState[] = [];
    let presence: Presence | undefined;
    try {
      presence = await attachPresence<FakeConn>(server, {
        redis,
        keyPrefix: uniquePrefix("boot"),
        identify: (c) => c.auth.user,
        nodeId: "booting",
        nodeTtlMs: 1500,
        nodeHeartbeatMs: 300,
        on: { state: (s) => states.push(s.state) },
      });
      const events: PresenceEvent[] = [];
      let subscribed = false;
      let rejected: unknown;
      presence
        .subscribe((e) => events.push(e))
        .then(
          () => {
            subscribed = true;
          },
          (error: unknown) => {
            rejected = error;
          },
        );
      server.connect("early");
      // Long enough for ioredis to give up on the queued SUBSCRIBE several times over.
      await waitFor("the outage noticed", () => presence!.state === "disconnected");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(subscribed).toBe(false);
      expect(rejected).toBeUndefined();
      expect(presence.stats()).toMatchObject({ registered: false, state: "disconnected" });
      expect(presence.stats().buffered).toBeGreaterThanOrEqual(1);

      await own.start();
      await waitFor(
        "subscribed and registered",
        () => subscribed && presence!.stats().registered,
        10_000,
      );
      expect(rejected).toBeUndefined();
      expect(presence.state).toBe("connected");
      expect(states).toEqual(["disconnected", "connected"]);
      expect((await presence.list()).map((e) => e.identity)).toEqual(["early"]);
      server.connect("late");
      await waitFor("the late connect event", () =>
        events.some((e) => e.type === "connect" && e.identity === "late"),
      );
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await presence?.close({ timeoutMs: 300 });
      redis.disconnect();
      await own.dispose();
    }
  });

  it("node_lost at its boundary: never while the lost node's key lives, and at the first survivor heartbeat after it lapses", async () => {
    const url = requireRedisUrl();
    const redis = await connectRedis(url);
    const kp = uniquePrefix("bound");
    const nodeTtlMs = 400;
    const nodeHeartbeatMs = 100;
    const events: PresenceEvent[] = [];
    const reader = createPresenceReader({ redis, keyPrefix: kp });
    await reader.subscribe((e) => events.push(e));
    // The lost node: registered, then silent (its clock never moves: a SIGKILL, as far as Redis can tell).
    const victimServer = new FakeServer();
    const victim = await attachPresence<FakeConn>(victimServer, {
      redis,
      keyPrefix: kp,
      identify: (c) => c.auth.user,
      nodeId: "victim",
      nodeTtlMs,
      nodeHeartbeatMs,
      clock: clockOf(FakeTimers.createClock()),
    });
    victimServer.connect("v");
    await victim.flush(2000);
    // The survivor's heartbeat runs on a fake clock: the test decides when it beats.
    const fc = FakeTimers.createClock();
    const survivor = await attachPresence<FakeConn>(new FakeServer(), {
      redis,
      keyPrefix: kp,
      identify: (c) => c.auth.user,
      nodeId: "survivor",
      nodeTtlMs: 60_000,
      nodeHeartbeatMs,
      clock: clockOf(fc),
    });
    const heartbeats = () => survivor.stats().heartbeats;
    const lost = () => events.filter((e) => e.type === "disconnect" && e.reason === "node_lost");
    const hbKey = `${kp}hb:victim`;
    try {
      // While the victim's key lives, a survivor heartbeat reaps nothing.
      expect(await redis.pttl(hbKey)).toBeGreaterThan(0);
      let beats = heartbeats();
      await fc.tickAsync(nodeHeartbeatMs);
      await waitFor("a survivor heartbeat", () => heartbeats() > beats);
      expect(await redis.pttl(hbKey)).toBeGreaterThan(0); // still alive after that beat
      expect(lost()).toEqual([]);
      // The key lapses (Redis's own clock: waited for, not faked).
      await waitFor(
        "the victim's key to lapse",
        async () => (await redis.pttl(hbKey)) === -2,
        3000,
      );
      // One ms before the survivor's next heartbeat: still nothing.
      beats = heartbeats();
      await fc.tickAsync(nodeHeartbeatMs - 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heartbeats()).toBe(beats);
      expect(lost()).toEqual([]);
      // At it: reaped, its connection reported node_lost once.
      await fc.tickAsync(1);
      await waitFor("node_lost", () => lost().length === 1);
      expect(lost()[0]).toMatchObject({ nodeId: "victim", identity: "v" });
    } finally {
      await survivor.close({ timeoutMs: 300 });
      await victim.close({ timeoutMs: 300 });
      await reader.close();
      redis.disconnect();
    }
  });
});

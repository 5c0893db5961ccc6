// The presence store against a real redis-server, driven by a fake server
// emitter with the Heartline server's event shapes (no sockets).

import { clockOf } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  attachPresence,
  createPresenceReader,
  type Presence,
  type PresenceError,
  PresenceErrorCode,
  type PresenceEvent,
} from "../src/index.js";
import { type FakeConn, FakeServer } from "./support/fake-server.js";
import {
  connectRedis,
  deletePrefix,
  ownRedis,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
  waitFor,
} from "./support/redis-env.js";

describe.skipIf(skipRedisTests)("presence store on a real redis-server", () => {
  let redis: Redis;
  const cleanups: Array<() => Promise<void>> = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    redis = await connectRedis(requireRedisUrl());
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  function prefix(label: string): string {
    const p = uniquePrefix(label);
    prefixes.push(p);
    return p;
  }

  async function node(
    server: FakeServer,
    keyPrefix: string,
    extra: Partial<Parameters<typeof attachPresence>[1]> = {},
  ): Promise<Presence> {
    const p = await attachPresence<FakeConn>(server, {
      redis,
      keyPrefix,
      identify: (c) => c.auth.user,
      nodeTtlMs: 600,
      nodeHeartbeatMs: 100,
      ...extra,
    });
    cleanups.push(() => p.close());
    return p;
  }

  async function collect(keyPrefix: string): Promise<PresenceEvent[]> {
    const reader = createPresenceReader({ redis, keyPrefix });
    cleanups.push(() => reader.close());
    const events: PresenceEvent[] = [];
    await reader.subscribe((e) => events.push(e));
    return events;
  }

  it("records a connection with node, session, identity and connect time; removes it on disconnect", async () => {
    const kp = prefix("basic");
    const events = await collect(kp);
    const server = new FakeServer();
    const p = await node(server, kp, { nodeId: "node-a" });
    const alice = server.connect("alice", 1_700_000_000_123);
    await p.flush(2000);
    const entry = {
      nodeId: "node-a",
      sessionId: alice.sessionId,
      identity: "alice",
      connectedAt: 1_700_000_000_123,
    };
    expect(await p.list()).toEqual([entry]);
    expect(await p.isOnline("alice")).toBe(true);
    expect(await p.isOnline("bob")).toBe(false);
    expect(await p.nodes()).toEqual(["node-a"]);

    server.disconnect(alice, "timeout", 4000);
    await waitFor("the disconnect event", () => events.length === 2);
    expect(events[0]).toEqual({ ...entry, type: "connect", at: entry.connectedAt });
    expect(events[1]).toMatchObject({
      ...entry,
      type: "disconnect",
      reason: "timeout",
      code: 4000,
    });
    expect(await p.list()).toEqual([]);
    expect(await p.isOnline("alice")).toBe(false);
  });

  it("lists exactly the connections of several nodes, one identity on two of them", async () => {
    const kp = prefix("multi");
    const [sa, sb] = [new FakeServer(), new FakeServer()];
    const a = await node(sa, kp, { nodeId: "a" });
    const b = await node(sb, kp, { nodeId: "b" });
    const conns = [sa.connect("u1"), sa.connect("u2"), sb.connect("u1"), sb.connect("u3")];
    sa.disconnect(conns[1]!, "client_closed", 1000);
    await Promise.all([a.flush(2000), b.flush(2000)]);
    const listed = (await a.list()).map((e) => `${e.nodeId}/${e.identity}`).sort();
    expect(listed).toEqual(["a/u1", "b/u1", "b/u3"]);
    expect((await b.connectionsOf("u1")).map((e) => e.nodeId).sort()).toEqual(["a", "b"]);
    expect(await b.isOnline("u2")).toBe(false);
  });

  it("a node whose heartbeat lapses is reported node_lost once, by one of the survivors", async () => {
    const kp = prefix("lost");
    const events = await collect(kp);
    const reaps: string[] = [];
    const survivors = await Promise.all(
      ["s1", "s2", "s3"].map((id) =>
        node(new FakeServer(), kp, {
          nodeId: id,
          on: { reap: (r) => reaps.push(`${id}:${r.nodeId}:${r.connections}`) },
        }),
      ),
    );
    // The doomed node's clock is never advanced: it registers, then never beats again.
    const frozen = FakeTimers.createClock();
    const clock = clockOf(frozen);
    const sd = new FakeServer();
    const doomed = await attachPresence<FakeConn>(sd, {
      redis,
      keyPrefix: kp,
      identify: (c) => c.auth.user,
      nodeId: "doomed",
      nodeTtlMs: 600,
      nodeHeartbeatMs: 100,
      clock,
    });
    sd.connect("x");
    sd.connect("y");
    await doomed.flush(2000);
    const registeredAt = Date.now();
    await waitFor(
      "node_lost for both",
      () => events.filter((e) => e.type === "disconnect").length >= 2,
      3000,
    );
    const detectedAfter = Date.now() - registeredAt;
    const lost = events.filter((e) => e.type === "disconnect");
    expect(
      lost.map((e) => (e.type === "disconnect" ? `${e.identity}:${e.reason}` : "")).sort(),
    ).toEqual(["x:node_lost", "y:node_lost"]);
    expect(detectedAfter).toBeGreaterThanOrEqual(600 - 100);
    expect(detectedAfter).toBeLessThan(600 + 100 + 250);
    // Every survivor beats several more times: still exactly one reap in all.
    await waitFor(
      "more survivor beats",
      () => survivors.every((s) => s.stats().heartbeats >= 12),
      3000,
    );
    expect(reaps).toHaveLength(1);
    expect(reaps[0]).toMatch(/^s\d:doomed:2$/);
    expect(events.filter((e) => e.type === "disconnect")).toHaveLength(2);
    expect(await survivors[0]!.nodes()).toEqual(["s1", "s2", "s3"]);
    expect(await survivors[0]!.list()).toEqual([]);
    await doomed.close({ timeoutMs: 100 });
  });

  it("a node reaped while alive (a stall past the TTL) resyncs: its connections come back once", async () => {
    const kp = prefix("revive");
    const events = await collect(kp);
    await node(new FakeServer(), kp, { nodeId: "other" });
    // "alive" runs on a clock the test holds still: a stalled event loop.
    const fc = FakeTimers.createClock();
    const clock = clockOf(fc);
    const server = new FakeServer();
    const resyncs: number[] = [];
    const p = await node(server, kp, {
      nodeId: "alive",
      clock,
      on: { resync: (r) => resyncs.push(r.added) },
    });
    const c = server.connect("carol");
    await p.flush(2000);
    await waitFor("node_lost", () => events.some((e) => e.type === "disconnect"), 3000);
    expect(await p.isOnline("carol")).toBe(false);
    // The stall ends: the next beat finds the node unregistered and resyncs.
    await fc.tickAsync(100);
    await waitFor("the resync", () =>
      events.some((e) => e.type === "connect" && e.resync === true),
    );
    expect(
      events.map((e) => (e.type === "connect" ? `connect${e.resync ? "+resync" : ""}` : e.reason)),
    ).toEqual(["connect", "node_lost", "connect+resync"]);
    expect(await p.isOnline("carol")).toBe(true);
    expect(resyncs.at(-1)).toBe(1);
    // A disconnect after that is reported once, with its own reason.
    server.disconnect(c, "connection_lost", 1006);
    await waitFor("the disconnect", () => events.length === 4);
    expect(events[3]).toMatchObject({
      type: "disconnect",
      reason: "connection_lost",
      identity: "carol",
    });
  });

  it("graceful close reports what the node still held as server_closed and unregisters it", async () => {
    const kp = prefix("leave");
    const events = await collect(kp);
    const server = new FakeServer();
    const p = await attachPresence<FakeConn>(server, {
      redis,
      keyPrefix: kp,
      identify: (c) => c.auth.user,
      nodeId: "leaving",
    });
    server.connect("dave");
    await p.close();
    await waitFor("server_closed", () => events.length === 2);
    expect(events[1]).toMatchObject({
      type: "disconnect",
      reason: "server_closed",
      identity: "dave",
    });
    const reader = createPresenceReader({ redis, keyPrefix: kp });
    expect(await reader.nodes()).toEqual([]);
    await reader.close();
  });

  it("rejects options that cannot work, with a stable code", async () => {
    const server = new FakeServer();
    await expect(
      attachPresence<FakeConn>(server, {
        redis,
        identify: () => "x",
        nodeTtlMs: 100,
        nodeHeartbeatMs: 100,
      }),
    ).rejects.toMatchObject({ code: PresenceErrorCode.InvalidOption });
    await expect(
      attachPresence<FakeConn>(server, { redis, identify: () => "x", maxBuffered: 0 }),
    ).rejects.toMatchObject({ code: PresenceErrorCode.InvalidOption });
  });

  describe("a listener that throws (the one policy of every Heartline package)", () => {
    /** Collects uncaught exceptions until `stop()`. */
    function catchUncaught(): { errors: unknown[]; stop(): void } {
      const errors: unknown[] = [];
      const onUncaught = (error: unknown) => errors.push(error);
      process.on("uncaughtException", onUncaught);
      return { errors, stop: () => process.off("uncaughtException", onUncaught) };
    }

    it("an attachPresence listener: reported on error as listener_threw with the cause; presence carries on", async () => {
      const kp = prefix("threw-attach");
      const bug = new Error("resync listener bug");
      const errors: PresenceError[] = [];
      const server = new FakeServer();
      const uncaught = catchUncaught();
      try {
        const p = await node(server, kp, {
          on: {
            resync: () => {
              throw bug;
            },
            error: (e) => errors.push(e),
          },
        });
        expect(errors).toMatchObject([{ code: PresenceErrorCode.ListenerThrew, cause: bug }]);
        expect(errors[0]!.message).toMatch(/"resync" listener threw/);
        server.connect("dave");
        await p.flush(2000);
        expect(await p.isOnline("dave")).toBe(true);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        uncaught.stop();
      }
      expect(uncaught.errors).toEqual([]);
    });

    it("a subscribe listener: the reader's error gets listener_threw; the other subscriber still gets the event", async () => {
      const kp = prefix("threw-sub");
      const errors: PresenceError[] = [];
      const reader = createPresenceReader({
        redis,
        keyPrefix: kp,
        on: { error: (e) => errors.push(e) },
      });
      cleanups.push(() => reader.close());
      const bug = new Error("subscriber bug");
      const events: PresenceEvent[] = [];
      await reader.subscribe(() => {
        throw bug;
      });
      await reader.subscribe((e) => events.push(e));
      const server = new FakeServer();
      const p = await node(server, kp);
      server.connect("erin");
      await p.flush(2000);
      await waitFor("the connect event", () => events.length === 1);
      expect(errors).toMatchObject([{ code: PresenceErrorCode.ListenerThrew, cause: bug }]);
    });

    it("with no error listener, a subscribe listener's throw is rethrown on a microtask (uncaught), once", async () => {
      const kp = prefix("threw-uncaught");
      const reader = createPresenceReader({ redis, keyPrefix: kp });
      cleanups.push(() => reader.close());
      const bug = new Error("subscriber bug");
      const events: PresenceEvent[] = [];
      const uncaught = catchUncaught();
      try {
        await reader.subscribe(() => {
          throw bug;
        });
        await reader.subscribe((e) => events.push(e));
        const server = new FakeServer();
        const p = await node(server, kp);
        server.connect("frank");
        await p.flush(2000);
        await waitFor("the connect event", () => events.length === 1);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        uncaught.stop();
      }
      expect(uncaught.errors).toEqual([bug]);
    });
  });
});

describe.skipIf(skipRedisTests)(
  "presence while Redis is down (an own redis-server, stopped and restarted)",
  () => {
    it("buffers changes (bounded, overflow reported), then resyncs so Redis holds exactly the node's set", async () => {
      requireRedisUrl();
      const own = ownRedis();
      await own.start();
      const redis = await connectRedis(own.url);
      const kp = uniquePrefix("outage");
      const server = new FakeServer();
      const overflows: number[] = [];
      const resyncs: Array<{ added: number; removed: number; droppedBefore: number }> = [];
      const p = await attachPresence<FakeConn>(server, {
        redis,
        keyPrefix: kp,
        identify: (c) => c.auth.user,
        nodeId: "n",
        nodeTtlMs: 600,
        nodeHeartbeatMs: 100,
        maxBuffered: 3,
        on: { overflow: (o) => overflows.push(o.dropped), resync: (r) => resyncs.push(r) },
      });
      const reader = createPresenceReader({ redis, keyPrefix: kp });
      try {
        let gaps = 0;
        await reader.subscribe(() => {}, { onGap: () => gaps++ });
        const before = [server.connect("a"), server.connect("b")];
        await p.flush(2000);
        const restartsBefore = resyncs.length;

        await own.stop();
        await waitFor("the client to notice", () => redis.status !== "ready");
        // While down: the server goes on; presence only buffers.
        server.disconnect(before[0]!, "timeout", 4000);
        const during = [server.connect("c"), server.connect("d"), server.connect("e")];
        server.disconnect(during[0]!, "client_closed", 1000);
        expect(p.stats().buffered).toBe(3);
        expect(p.stats().dropped).toBe(2);
        expect(overflows).toEqual([1]);

        await own.start();
        await waitFor(
          "the resync after the restart",
          () => resyncs.length > restartsBefore && p.stats().buffered === 0,
          5000,
        );
        // The restarted Redis (no persistence) had lost everything; the resync restored exactly the node's set.
        const names = (await p.list()).map((e) => e.identity).sort();
        expect(names).toEqual(["b", "d", "e"]);
        expect(resyncs.slice(restartsBefore).map((r) => r.droppedBefore)).toContain(2);
        // A subscriber's connection dropped too: it is told to re-read, once, after resubscribing.
        await waitFor("the gap notice", () => gaps === 1);
        expect(await p.isOnline("a")).toBe(false);
        expect(await p.isOnline("c")).toBe(false);
      } finally {
        await p.close({ timeoutMs: 500 });
        await reader.close();
        redis.disconnect();
        await own.dispose();
      }
    });
  },
);

// Presence over resumable sessions (issue 25, point 6), against a real
// redis-server: several presence instances in one process are several
// nodes, each with its own ioredis client and a fake server emitting the
// session events. Offline means the session ended: a drop, a resume on the
// same or another node, a lost node whose sessions a survivor adopts,
// publish no disconnect; the session's end publishes one, with its reason,
// once cluster-wide.
import { clockOf } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  attachPresence,
  createPresenceReader,
  type Presence,
  type PresenceEvent,
  type PresenceMovedEvent,
} from "../src/index.js";
import { type FakeSessionConn, FakeSessionServer } from "./support/fake-session-server.js";
import {
  connectRedis,
  deletePrefix,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
  waitFor,
} from "./support/redis-env.js";

/** A compact trace of an event: "connect a@n1", "moved a@n2<n1", "disconnect a@n1 expired". */
function trace(e: PresenceEvent | PresenceMovedEvent): string {
  if (e.type === "connect") return `connect ${e.identity}@${e.nodeId}${e.resync ? " resync" : ""}`;
  if (e.type === "moved") return `moved ${e.identity}@${e.nodeId}<${e.from}`;
  return `disconnect ${e.identity}@${e.nodeId} ${e.reason}`;
}

describe.skipIf(skipRedisTests)("presence over resumable sessions (a real redis-server)", () => {
  const clients: Redis[] = [];
  let admin: Redis;
  const cleanups: Array<() => Promise<void>> = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    admin = await connectRedis(requireRedisUrl());
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    for (const p of prefixes.splice(0)) await deletePrefix(admin, p);
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await admin?.quit();
  });

  function prefix(label: string): string {
    const p = uniquePrefix(label);
    prefixes.push(p);
    return p;
  }

  /** One node: its own ioredis client, its own fake server, its own clock. */
  async function node(
    kp: string,
    nodeId: string,
    extra: Partial<Parameters<typeof attachPresence>[1]> = {},
  ): Promise<{ p: Presence; server: FakeSessionServer }> {
    const redis = await connectRedis(requireRedisUrl());
    clients.push(redis);
    const server = new FakeSessionServer();
    const p = await attachPresence<FakeSessionConn>(server, {
      redis,
      keyPrefix: kp,
      identify: (c) => c.auth.user,
      nodeId,
      nodeTtlMs: 60_000,
      nodeHeartbeatMs: 100,
      // Heartbeats only when a test moves this clock.
      clock: clockOf(FakeTimers.createClock(1_000_000)),
      ...extra,
    });
    cleanups.push(() => p.close({ timeoutMs: 300 }));
    return { p, server };
  }

  let markers = 0;
  /**
   * Every event published so far has reached `events`: after each node's
   * writes are flushed, a marker published on the same channel comes back
   * (Redis delivers one channel's messages in publish order).
   */
  async function settled(
    kp: string,
    events: Array<PresenceEvent | PresenceMovedEvent>,
    nodes: Presence[],
  ): Promise<void> {
    for (const n of nodes) expect(await n.flush(2000)).toBe(true);
    const id = `__marker${++markers}`;
    const marker = {
      nodeId: "m",
      sessionId: id,
      identity: id,
      connectedAt: 0,
      type: "connect",
      at: 0,
    };
    await admin.publish(`${kp}events`, JSON.stringify({ v: 1, events: [marker] }));
    await waitFor("the marker", () => events.some((e) => e.sessionId === id));
    for (let i = events.length - 1; i >= 0; i--) {
      if (events[i]!.sessionId.startsWith("__marker")) events.splice(i, 1);
    }
  }

  async function collect(kp: string): Promise<Array<PresenceEvent | PresenceMovedEvent>> {
    const reader = createPresenceReader({ redis: admin, keyPrefix: kp });
    cleanups.push(() => reader.close());
    const events: Array<PresenceEvent | PresenceMovedEvent> = [];
    await reader.subscribe((e) => events.push(e), { moves: true });
    return events;
  }

  it("a drop and a resume on the same node publish nothing; the session's end publishes one disconnect with its reason", async () => {
    const kp = prefix("same");
    const events = await collect(kp);
    const a = await node(kp, "n1");
    const conn = a.server.open("ann", 1000);
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual(["connect ann@n1"]);

    // The link dies: the server keeps the session (resumable: true).
    a.server.disconnect(conn, "connection_lost", true);
    await settled(kp, events, [a.p]);
    expect(await a.p.isOnline("ann")).toBe(true);
    expect(await a.p.list()).toEqual([
      {
        nodeId: "n1",
        sessionId: conn.sessionId,
        identity: "ann",
        connectedAt: 1000,
        resumable: true,
      },
    ]);
    // It resumes here, and once more after a takeover (the old connection reported replaced).
    const again = a.server.open("ann", 2000, conn.sessionId);
    const third = a.server.open("ann", 3000, conn.sessionId);
    a.server.disconnect(again, "replaced", true, 4409);
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual(["connect ann@n1"]);
    expect(await a.p.isOnline("ann")).toBe(true);

    // A deliberate close: the connection's report (resumable: false), then the session's end.
    a.server.disconnect(third, "client_closed", false, 1000);
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual(["connect ann@n1"]); // the socket's end is not the session's
    a.server.sessionEnd(conn.sessionId, "client_closed", 4000);
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual(["connect ann@n1", "disconnect ann@n1 client_closed"]);
    expect(events[1]).toMatchObject({ at: 4000, resumable: true, sessionId: conn.sessionId });
    expect(await a.p.isOnline("ann")).toBe(false);
    expect(a.p.stats().local).toBe(0);
  });

  it("a resume on another node moves the record (one `moved`), never offline; the end there is reported once cluster-wide", async () => {
    const kp = prefix("other");
    const events = await collect(kp);
    // A subscriber that did not ask for moves (written for connect/disconnect only).
    const plainReader = createPresenceReader({ redis: admin, keyPrefix: kp });
    cleanups.push(() => plainReader.close());
    const seenByDefault: PresenceEvent[] = [];
    await plainReader.subscribe((e) => seenByDefault.push(e));
    const a = await node(kp, "n1");
    const b = await node(kp, "n2");
    const conn = a.server.open("bob", 1000);
    await settled(kp, events, [a.p, b.p]);

    a.server.disconnect(conn, "timeout", true, 4000);
    // The client comes back on n2; n1's store tells n1 the session left it.
    b.server.open("bob", 5000, conn.sessionId);
    a.server.sessionMoved(conn.sessionId);
    await settled(kp, events, [a.p, b.p]);
    expect(events.map(trace)).toEqual(["connect bob@n1", "moved bob@n2<n1"]);
    expect(events[1]).toMatchObject({ connectedAt: 5000, at: 5000, resumable: true });
    expect(await b.p.list()).toEqual([
      {
        nodeId: "n2",
        sessionId: conn.sessionId,
        identity: "bob",
        connectedAt: 5000,
        resumable: true,
      },
    ]);
    expect((await a.p.connectionsOf("bob")).map((e) => e.nodeId)).toEqual(["n2"]);
    expect([a.p.stats().local, b.p.stats().local]).toEqual([0, 1]);

    // And back to n1 (a second move), then the window passes there: expired, once.
    b.server.disconnect({ ...conn, connectedAt: 5000 }, "connection_lost", true);
    a.server.open("bob", 9000, conn.sessionId);
    b.server.sessionMoved(conn.sessionId);
    a.server.disconnect({ ...conn, connectedAt: 9000 }, "connection_lost", true);
    a.server.sessionEnd(conn.sessionId, "expired", 20_000);
    // A second report of the same end (another node, a retry) publishes nothing more.
    b.server.sessionEnd(conn.sessionId, "expired", 20_001);
    await settled(kp, events, [a.p, b.p]);
    expect(events.map(trace)).toEqual([
      "connect bob@n1",
      "moved bob@n2<n1",
      "moved bob@n1<n2",
      "disconnect bob@n1 expired",
    ]);
    // Same channel, same order: the other subscriber has had everything too, and saw no move.
    const unmarked = seenByDefault.filter((e) => !e.sessionId.startsWith("__marker"));
    expect(unmarked.map(trace)).toEqual(["connect bob@n1", "disconnect bob@n1 expired"]);
    expect(await a.p.list()).toEqual([]);
  });

  it("a claim queued before the session's end elsewhere does not bring it back", async () => {
    const kp = prefix("late");
    const events = await collect(kp);
    const a = await node(kp, "n1");
    const b = await node(kp, "n2");
    const sid = "late-session";
    // n2 reports the end first (the session came and went there while n1's write waited).
    b.server.sessionEnd(sid, "client_closed", 100);
    await settled(kp, events, [b.p]);
    a.server.open("cat", 50, sid);
    await settled(kp, events, [a.p]);
    expect(events).toEqual([]);
    expect(await a.p.isOnline("cat")).toBe(false);
  });

  it("a claim from a connection older than the recorded one (queued, written late) does not move the record back", async () => {
    const kp = prefix("stale");
    const events = await collect(kp);
    const a = await node(kp, "n1");
    const b = await node(kp, "n2");
    const sid = "stale-session";
    b.server.open("sam", 9000, sid); // the newer connection, recorded first
    await settled(kp, events, [b.p]);
    a.server.open("sam", 5000, sid); // n1's older connection, its write late
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual(["connect sam@n2"]);
    expect((await a.p.list()).map((e) => `${e.identity}@${e.nodeId}`)).toEqual(["sam@n2"]);
  });

  it("a lost node's sessions are not reported node_lost: a survivor adopts them (moved), and ends them with their reason", async () => {
    const kp = prefix("adopt");
    const events = await collect(kp);
    const reaps: unknown[] = [];
    // The victim's clock never moves after it registers: it dies, as far as Redis can tell.
    const victim = await node(kp, "victim", { nodeTtlMs: 300, orphanWindowMs: 120_000 });
    const fc = FakeTimers.createClock(1_000_000);
    const survivor = await node(kp, "survivor", {
      clock: clockOf(fc),
      orphanWindowMs: 120_000,
      on: { reap: (r) => reaps.push(r) },
    });
    victim.server.plain("pat", 1000);
    const live = victim.server.open("liz", 1000);
    const waiting = victim.server.open("wes", 1000);
    victim.server.disconnect(waiting, "connection_lost", true);
    await settled(kp, events, [victim.p, survivor.p]);
    await waitFor(
      "the victim's key to lapse",
      async () => (await admin.pttl(`${kp}hb:victim`)) === -2,
    );

    const beats = survivor.p.stats().heartbeats;
    await fc.tickAsync(100);
    await waitFor("the reaping heartbeat", () => survivor.p.stats().heartbeats > beats);
    await settled(kp, events, [survivor.p]);
    // Only the plain connection went with its node.
    expect(events.map(trace).slice(3)).toEqual(["disconnect pat@victim node_lost"]);
    expect(reaps).toEqual([{ nodeId: "victim", connections: 1, sessions: 2 }]);
    expect((await survivor.p.list()).map((e) => `${e.identity}@${e.nodeId}`).sort()).toEqual([
      "liz@victim",
      "wes@victim",
    ]);
    expect(await survivor.p.isOnline("liz")).toBe(true);
    expect(await survivor.p.isOnline("pat")).toBe(false);

    // The survivor's session store adopts both: the records move to it.
    survivor.server.sessionAdopted(live.sessionId, "victim", "liz");
    survivor.server.sessionAdopted(waiting.sessionId, "victim", "wes");
    await settled(kp, events, [survivor.p]);
    expect(events.map(trace).slice(4)).toEqual([
      "moved liz@survivor<victim",
      "moved wes@survivor<victim",
    ]);
    expect(survivor.p.stats().local).toBe(2);
    // liz resumes on the survivor: nothing; wes's window passes there: expired.
    survivor.server.open("liz", 1_000_200, live.sessionId);
    survivor.server.sessionEnd(waiting.sessionId, "expired", 1_120_000);
    await settled(kp, events, [survivor.p]);
    expect(events.map(trace).slice(6)).toEqual(["disconnect wes@survivor expired"]);
    expect((await survivor.p.list()).map((e) => `${e.identity}@${e.nodeId}`)).toEqual([
      "liz@survivor",
    ]);
  });

  it("an adoption only moves a record still the lost node's: before the reap it moves (the reap then skips it); after a resume elsewhere it does nothing", async () => {
    const kp = prefix("fence");
    const events = await collect(kp);
    const victim = await node(kp, "victim", { nodeTtlMs: 300, orphanWindowMs: 60_000 });
    const fc = FakeTimers.createClock(1_000_000);
    const survivor = await node(kp, "survivor", { clock: clockOf(fc), orphanWindowMs: 60_000 });
    const other = await node(kp, "other");
    const early = victim.server.open("eve", 1000);
    const resumed = victim.server.open("rex", 1000);
    await settled(kp, events, [victim.p]);
    // The session store noticed the death before presence did: adopted while the victim still holds the record.
    survivor.server.sessionAdopted(early.sessionId, "victim", "eve");
    // rex's client resumed on `other` before any adoption...
    other.server.open("rex", 2000, resumed.sessionId);
    await settled(kp, events, [survivor.p, other.p]);
    // ...so a late adoption of rex from the victim must not pull it back.
    survivor.server.sessionAdopted(resumed.sessionId, "victim", "rex");
    await settled(kp, events, [survivor.p]);
    expect(events.map(trace)).toEqual([
      "connect eve@victim",
      "connect rex@victim",
      "moved eve@survivor<victim",
      "moved rex@other<victim",
    ]);
    await waitFor(
      "the victim's key to lapse",
      async () => (await admin.pttl(`${kp}hb:victim`)) === -2,
    );
    const beats = survivor.p.stats().heartbeats;
    await fc.tickAsync(100);
    await waitFor("the reaping heartbeat", () => survivor.p.stats().heartbeats > beats);
    await settled(kp, events, [survivor.p]);
    expect(events).toHaveLength(4);
    expect((await other.p.list()).map((e) => `${e.identity}@${e.nodeId}`).sort()).toEqual([
      "eve@survivor",
      "rex@other",
    ]);
    expect([survivor.p.stats().local, other.p.stats().local]).toEqual([1, 1]);
  });

  it("an adoption whose `from` is not presence's node id (the session store's own, or unknown) moves a record no live node holds, never one a live node holds", async () => {
    const kp = prefix("fromless");
    const events = await collect(kp);
    const victim = await node(kp, "victim", { nodeTtlMs: 300, orphanWindowMs: 60_000 });
    const fc = FakeTimers.createClock(1_000_000);
    const survivor = await node(kp, "survivor", { clock: clockOf(fc), orphanWindowMs: 60_000 });
    const other = await node(kp, "other");
    const lapsed = victim.server.open("amy", 1000);
    const orphaned = victim.server.open("ben", 1000);
    const held = other.server.open("cal", 1000);
    await settled(kp, events, [victim.p, other.p]);
    await waitFor(
      "the victim's key to lapse",
      async () => (await admin.pttl(`${kp}hb:victim`)) === -2,
    );
    // Not reaped yet, but its heartbeat lapsed: adopted under the store's own id for the victim.
    survivor.server.sessionAdopted(lapsed.sessionId, "store-node-7", "amy");
    await settled(kp, events, [survivor.p]);
    const beats = survivor.p.stats().heartbeats;
    await fc.tickAsync(100);
    await waitFor("the reaping heartbeat", () => survivor.p.stats().heartbeats > beats);
    // Orphaned by the reap: adopted with no `from` at all.
    survivor.server.sessionAdopted(orphaned.sessionId, "", "ben");
    // Held by a live node: an adoption claim must not take it.
    survivor.server.sessionAdopted(held.sessionId, "", "cal");
    await settled(kp, events, [survivor.p]);
    expect(events.map(trace).slice(3)).toEqual([
      "moved amy@survivor<victim",
      "moved ben@survivor<victim",
    ]);
    expect((await other.p.list()).map((e) => `${e.identity}@${e.nodeId}`).sort()).toEqual([
      "amy@survivor",
      "ben@survivor",
      "cal@other",
    ]);
  });

  it("a claim or an adoption still queued when its session moved on or ended is dropped: the holder records it", async () => {
    const kp = prefix("queued");
    const events = await collect(kp);
    const victim = await node(kp, "victim", { nodeTtlMs: 300, orphanWindowMs: 60_000 });
    const a = await node(kp, "n1", { orphanWindowMs: 60_000 });
    const w1 = victim.server.open("wyn", 1000);
    const w2 = victim.server.open("wil", 1000);
    await settled(kp, events, [victim.p]);
    // One event-loop turn: the first write is in flight, the others wait behind it.
    a.server.open("ada", 2000);
    const quick = a.server.open("qui", 2000); // moved away at once (resumed elsewhere)
    a.server.sessionMoved(quick.sessionId);
    a.server.sessionAdopted(w1.sessionId, "victim", "wyn"); // then resumed elsewhere
    a.server.sessionMoved(w1.sessionId);
    a.server.sessionAdopted(w2.sessionId, "victim", "wil"); // then ended here
    a.server.sessionEnd(w2.sessionId, "server_closed", 3000);
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual([
      "connect wyn@victim",
      "connect wil@victim",
      "connect ada@n1",
      "disconnect wil@victim server_closed",
    ]);
    expect(a.p.stats().local).toBe(1);
    expect((await a.p.list()).map((e) => `${e.identity}@${e.nodeId}`).sort()).toEqual([
      "ada@n1",
      "wyn@victim",
    ]);
  });

  it("a lost node's session no one adopts is reported node_lost at the first heartbeat at its reap + the node's orphanWindowMs: alive 1 ms before", async () => {
    const kp = prefix("orphan");
    const events = await collect(kp);
    const orphanWindowMs = 20;
    const victim = await node(kp, "victim", { nodeTtlMs: 300, orphanWindowMs });
    // A survivor beating every 1 ms of its fake clock, so a heartbeat falls on every ms.
    const fc = FakeTimers.createClock(5_000_000);
    const survivor = await node(kp, "survivor", { clock: clockOf(fc), nodeHeartbeatMs: 1 });
    const s = victim.server.open("ola", 1000);
    await settled(kp, events, [victim.p]);
    await waitFor(
      "the victim's key to lapse",
      async () => (await admin.pttl(`${kp}hb:victim`)) === -2,
    );

    const step = async (): Promise<void> => {
      const beats = survivor.p.stats().heartbeats;
      await fc.tickAsync(1);
      await waitFor("a survivor heartbeat", () => survivor.p.stats().heartbeats > beats);
    };
    await step(); // the reap
    const reapedAt = fc.now;
    expect(await admin.zscore(`${kp}orphans`, s.sessionId)).toBe(String(reapedAt + orphanWindowMs));
    while (fc.now < reapedAt + orphanWindowMs - 1) await step();
    await settled(kp, events, [survivor.p]);
    expect(fc.now).toBe(reapedAt + orphanWindowMs - 1);
    expect(events.map(trace)).toEqual(["connect ola@victim"]);
    expect(await survivor.p.isOnline("ola")).toBe(true);

    await step(); // at the deadline
    await settled(kp, events, [survivor.p]);
    expect(events.map(trace)).toEqual(["connect ola@victim", "disconnect ola@victim node_lost"]);
    expect(survivor.p.stats().orphansLost).toBe(1);
    expect(await survivor.p.isOnline("ola")).toBe(false);
    // An adoption that comes too late changes nothing (the record is gone).
    survivor.server.sessionAdopted(s.sessionId, "victim", "ola");
    await step();
    await settled(kp, events, [survivor.p]);
    expect(events).toHaveLength(2);
  });

  it("orphanWindowMs 0 (the in-process store: sessions die with their process): a lost node's sessions are node_lost at the reap", async () => {
    const kp = prefix("nowindow");
    const events = await collect(kp);
    const victim = await node(kp, "victim", { nodeTtlMs: 300 });
    const fc = FakeTimers.createClock(1_000_000);
    const survivor = await node(kp, "survivor", { clock: clockOf(fc) });
    victim.server.open("una", 1000);
    victim.server.plain("pia", 1000);
    await settled(kp, events, [victim.p]);
    await waitFor(
      "the victim's key to lapse",
      async () => (await admin.pttl(`${kp}hb:victim`)) === -2,
    );
    const beats = survivor.p.stats().heartbeats;
    await fc.tickAsync(100);
    await waitFor("the reaping heartbeat", () => survivor.p.stats().heartbeats > beats);
    await settled(kp, events, [survivor.p]);
    expect(events.map(trace).slice(2).sort()).toEqual([
      "disconnect pia@victim node_lost",
      "disconnect una@victim node_lost",
    ]);
    expect(await survivor.p.list()).toEqual([]);
  });

  it("a rolling restart: close() orphans the node's sessions (not server_closed), a survivor adopts them, never offline", async () => {
    const kp = prefix("rolling");
    const events = await collect(kp);
    const old = await node(kp, "old", { orphanWindowMs: 60_000 });
    const next = await node(kp, "next", { orphanWindowMs: 60_000 });
    const s = old.server.open("vic", 1000);
    old.server.plain("pam", 1000);
    await settled(kp, events, [old.p]);
    // The server closed (its store handed the session over), then presence.
    old.server.disconnect(s, "server_closed", true, 1001);
    await old.p.close({ timeoutMs: 1000 });
    next.server.sessionAdopted(s.sessionId, "old", "vic");
    await settled(kp, events, [next.p]);
    expect(events.map(trace)).toEqual([
      "connect vic@old",
      "connect pam@old",
      "disconnect pam@old server_closed",
      "moved vic@next<old",
    ]);
    expect(await next.p.isOnline("vic")).toBe(true);
  });

  it("a node reaped while alive (a stall past the TTL) takes its sessions back silently when it resyncs", async () => {
    const kp = prefix("stall");
    const events = await collect(kp);
    const fcOther = FakeTimers.createClock(1_000_000);
    const other = await node(kp, "other", { clock: clockOf(fcOther) });
    const stalled = FakeTimers.createClock(1_000_000);
    const n = await node(kp, "stalled", {
      clock: clockOf(stalled),
      nodeTtlMs: 300,
      orphanWindowMs: 60_000,
    });
    n.server.open("zoe", 1000);
    n.server.plain("zed", 1000);
    await settled(kp, events, [n.p]);
    await waitFor(
      "the stalled node's key to lapse",
      async () => (await admin.pttl(`${kp}hb:stalled`)) === -2,
    );
    let beats = other.p.stats().heartbeats;
    await fcOther.tickAsync(100);
    await waitFor("the reap", () => other.p.stats().heartbeats > beats);
    // The stall ends: the node finds itself unregistered and resyncs.
    beats = n.p.stats().resyncs;
    await stalled.tickAsync(100);
    await waitFor("the resync", () => n.p.stats().resyncs > beats);
    await settled(kp, events, [n.p, other.p]);
    expect(events.map(trace)).toEqual([
      "connect zoe@stalled",
      "connect zed@stalled",
      "disconnect zed@stalled node_lost",
      "connect zed@stalled resync",
    ]);
    expect((await other.p.list()).map((e) => `${e.identity}@${e.nodeId}`).sort()).toEqual([
      "zed@stalled",
      "zoe@stalled",
    ]);
    expect(await admin.zcard(`${kp}orphans`)).toBe(0);
  });

  it("plain v1 connections on the same nodes keep today's behaviour: offline at their socket's end, with its reason and code", async () => {
    const kp = prefix("plain");
    const events = await collect(kp);
    const a = await node(kp, "n1");
    const c = a.server.plain("ida", 1000);
    await settled(kp, events, [a.p]);
    a.server.disconnect(c, "timeout", false, 4000);
    await settled(kp, events, [a.p]);
    expect(events.map(trace)).toEqual(["connect ida@n1", "disconnect ida@n1 timeout"]);
    expect(events[1]).toMatchObject({ code: 4000 });
    expect(events[0]).not.toHaveProperty("resumable");
    expect(await a.p.list()).toEqual([]);
  });

  it("rejects an orphanWindowMs that cannot work, with a stable code", async () => {
    const redis = await connectRedis(requireRedisUrl());
    clients.push(redis);
    for (const orphanWindowMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(
        attachPresence<FakeSessionConn>(new FakeSessionServer(), {
          redis,
          identify: (c) => c.auth.user,
          orphanWindowMs,
        }),
      ).rejects.toMatchObject({ code: "presence_invalid_option" });
    }
  });
});

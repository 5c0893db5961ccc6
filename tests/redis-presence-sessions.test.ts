// Issue 25, point 6, end to end: presence over sessions with two real
// Heartline servers ("nodes") on loopback sharing one redis-server, each
// with `createRedisSessionStore` and `attachPresence` (the same node id for
// both), real sockets. A client that drops on A and resumes on B, or whose
// node closes and hands it to B, is never seen offline; the session's end
// is one `disconnect` with its reason.
import {
  attachPresence,
  createPresenceReader,
  createRedisSessionStore,
  type Presence,
  type PresenceEvent,
  type PresenceMovedEvent,
  type RedisSessionStore,
} from "@heartline/redis";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectRedis,
  deletePrefix,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
} from "../packages/redis/test/support/redis-env.js";
import { startServer, TestClient, until } from "../packages/server/test/helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Event = PresenceEvent | PresenceMovedEvent;

function trace(e: Event): string {
  if (e.type === "connect") return `connect@${e.nodeId}`;
  if (e.type === "moved") return `moved@${e.nodeId}<${e.from}`;
  return `disconnect@${e.nodeId} ${e.reason}`;
}

async function startNode(nodeId: string, storePrefix: string, presencePrefix: string) {
  const redis: Redis = await connectRedis(requireRedisUrl());
  const store: RedisSessionStore = createRedisSessionStore({
    redis,
    nodeId,
    keyPrefix: storePrefix,
    nodeTtlMs: 3000,
    nodeHeartbeatMs: 500,
  });
  const windowMs = 60_000;
  const s = await startServer<unknown, unknown>({ resume: { windowMs, store } });
  const adopted: string[] = [];
  const moved: string[] = [];
  s.hl.on("sessionAdopted", (info) => adopted.push(info.sessionId));
  s.hl.on("sessionMoved", (info) => moved.push(info.sessionId));
  const presence: Presence = await attachPresence(s.hl, {
    redis,
    keyPrefix: presencePrefix,
    nodeId, // the session store's: `sessionAdopted.from` names this node
    identify: (conn) => conn.sessionId,
    orphanWindowMs: windowMs,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // The server first (its sessions are handed on), then presence.
    await s.hl.close();
    await presence.close({ timeoutMs: 1000 });
    redis.disconnect();
  };
  cleanups.push(close);
  return { ...s, store, presence, adopted, moved, close };
}

describe.skipIf(skipRedisTests)(
  "presence over sessions, two real servers sharing one Redis (sessions and presence)",
  () => {
    async function setup(label: string) {
      const storePrefix = uniquePrefix(`${label}-s`).replace(/[{}]/g, "");
      const presencePrefix = uniquePrefix(`${label}-p`);
      const admin = await connectRedis(requireRedisUrl());
      cleanups.push(async () => {
        await deletePrefix(admin, storePrefix);
        await deletePrefix(admin, presencePrefix);
        admin.disconnect();
      });
      const a = await startNode("A", storePrefix, presencePrefix);
      const b = await startNode("B", storePrefix, presencePrefix);
      const reader = createPresenceReader({ redis: admin, keyPrefix: presencePrefix });
      cleanups.push(() => reader.close());
      const events: Event[] = [];
      await reader.subscribe((e) => events.push(e), { moves: true });
      let markers = 0;
      /** Every event published so far has arrived (a marker on the same channel comes back after them). */
      const settled = async (): Promise<string[]> => {
        expect(await a.presence.flush(2000)).toBe(true);
        expect(await b.presence.flush(2000)).toBe(true);
        const id = `__marker${++markers}`;
        const marker = { nodeId: "m", sessionId: id, identity: id, connectedAt: 0, at: 0 };
        await admin.publish(
          `${presencePrefix}events`,
          JSON.stringify({ v: 1, events: [{ ...marker, type: "connect" }] }),
        );
        await until(() => events.some((e) => e.sessionId === id), "the marker");
        return events.filter((e) => !e.sessionId.startsWith("__marker")).map(trace);
      };
      return { a, b, events, settled, reader };
    }

    it("drop on A, resume on B, close: connect, moved, one disconnect client_closed; online throughout", async () => {
      const { a, b, settled, reader } = await setup("e2e-p-move");
      const c1 = await TestClient.connect(a.url, ["heartline.v1", "heartline.resume"]);
      const welcome = c1.ofType("welcome")[0]!;
      expect(await settled()).toEqual(["connect@A"]);

      c1.ws.terminate();
      await until(() => a.store.counts().detached === 1, "the session waiting on A");
      expect(await settled()).toEqual(["connect@A"]);
      expect(await reader.isOnline(welcome.sessionId)).toBe(true);

      const c2 = await TestClient.connect(b.url, [
        "heartline.v1",
        `heartline.resume.${welcome.resume!.token}`,
      ]);
      expect(c2.ofType("welcome")[0]).toMatchObject({ sessionId: welcome.sessionId });
      await until(() => a.moved.length === 1, "sessionMoved on A");
      expect(await settled()).toEqual(["connect@A", "moved@B<A"]);
      expect((await reader.connectionsOf(welcome.sessionId)).map((e) => e.nodeId)).toEqual(["B"]);
      expect([a.presence.stats().local, b.presence.stats().local]).toEqual([0, 1]);

      c2.ws.close(1000);
      await until(() => b.presence.stats().local === 0, "the session's end on B");
      expect(await settled()).toEqual(["connect@A", "moved@B<A", "disconnect@B client_closed"]);
      expect(await reader.isOnline(welcome.sessionId)).toBe(false);
    });

    it("A closes (a rolling restart): B adopts the session (moved), the client resumes on B (nothing); never offline", async () => {
      const { a, b, settled, reader } = await setup("e2e-p-handoff");
      const c1 = await TestClient.connect(a.url, ["heartline.v1", "heartline.resume"]);
      const welcome = c1.ofType("welcome")[0]!;
      expect(await settled()).toEqual(["connect@A"]);
      await a.close();
      await until(() => b.adopted.length === 1, "adopted by B", 3000);
      expect(await settled()).toEqual(["connect@A", "moved@B<A"]);
      expect(await reader.isOnline(welcome.sessionId)).toBe(true);

      const c2 = await TestClient.connect(b.url, [
        "heartline.v1",
        `heartline.resume.${welcome.resume!.token}`,
      ]);
      expect(c2.ofType("welcome")[0]).toMatchObject({ sessionId: welcome.sessionId });
      expect(await settled()).toEqual(["connect@A", "moved@B<A"]);
      expect((await reader.list()).map((e) => e.nodeId)).toEqual(["B"]);
      c2.ws.close(1000);
      await until(() => b.presence.stats().local === 0, "the session's end on B");
      expect(await settled()).toEqual(["connect@A", "moved@B<A", "disconnect@B client_closed"]);
    });
  },
);

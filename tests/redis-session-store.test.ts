// Issue 25 end to end in one process: two Heartline servers ("nodes") on
// loopback, each with its own ioredis client and `createRedisSessionStore`,
// real sockets; a client resumes on the other node, is taken over across
// nodes (4409 at once), and is handed over by `close()`.
import { CloseCode } from "@heartline/protocol";
import { createRedisSessionStore, type RedisSessionStore } from "@heartline/redis";
import type { ResumedInfo, SessionEndInfo } from "@heartline/server";
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

type Node = Awaited<ReturnType<typeof startNode>>;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startNode(nodeId: string, keyPrefix: string) {
  const redis: Redis = await connectRedis(requireRedisUrl());
  const store: RedisSessionStore = createRedisSessionStore({
    redis,
    nodeId,
    keyPrefix,
    nodeTtlMs: 3000,
    nodeHeartbeatMs: 500,
  });
  const s = await startServer<unknown, unknown>({ resume: { windowMs: 60_000, store } });
  const log = {
    messages: [] as Array<{ data: unknown; seq: number | undefined }>,
    moved: [] as Array<{ sessionId: string; undelivered: readonly unknown[] }>,
    adopted: [] as Array<{ sessionId: string; from: string }>,
    ends: [] as SessionEndInfo[],
    resumed: [] as ResumedInfo[],
  };
  s.hl.on("message", (conn, data, seq) => {
    log.messages.push({ data, seq });
    conn.send({ echo: data });
  });
  s.hl.on("sessionMoved", (info) => log.moved.push(info));
  s.hl.on("sessionAdopted", (info) =>
    log.adopted.push({ sessionId: info.sessionId, from: info.from }),
  );
  s.hl.on("sessionEnd", (info) => log.ends.push(info));
  s.hl.on("resumed", (info) => log.resumed.push(info));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await s.hl.close();
    redis.disconnect();
  };
  cleanups.push(close);
  return { ...s, store, redis, log, close, nodeId };
}

describe.skipIf(skipRedisTests)(
  "Redis session store under two servers (real sockets, real redis-server)",
  () => {
    async function twoNodes(label: string): Promise<[Node, Node]> {
      const kp = uniquePrefix(label).replace(/[{}]/g, "");
      const a = await startNode("A", kp);
      const b = await startNode("B", kp);
      cleanups.unshift(async () => {
        const r = await connectRedis(requireRedisUrl());
        await deletePrefix(r, kp);
        r.disconnect();
      });
      return [a, b];
    }

    it("a client drops on A and resumes on B: same session, resumed.ack, the unacked echo replayed, A's copy moves", async () => {
      const [a, b] = await twoNodes("e2e-move");
      const c1 = await TestClient.connect(a.url, ["heartline.v1", "heartline.resume"]);
      const welcome = c1.ofType("welcome")[0]!;
      expect(welcome.resume?.token).toBeTypeOf("string");
      c1.send({ type: "message", seq: 1, data: "hi" });
      c1.send({ type: "message", seq: 2, data: "there" });
      // Echoes are written only once recorded in Redis; they arrive in order.
      await until(() => c1.ofType("message").length === 2, "two echoes");
      expect(c1.ofType("message").map((m) => m.seq)).toEqual([1, 2]);
      expect(a.log.messages).toEqual([
        { data: "hi", seq: 1 },
        { data: "there", seq: 2 },
      ]);
      c1.send({ type: "ack", seq: 1 });
      await until(() => a.hl.stats().framesIn >= 3, "the ack read");
      // Acks are written only once the receipt is recorded: the server acked up to 2.
      await until(() => c1.ofType("ack").some((f) => f.seq === 2), "the server's ack");
      c1.ws.terminate();
      await until(() => a.store.counts().detached === 1, "waiting on A");

      const c2 = await TestClient.connect(b.url, [
        "heartline.v1",
        `heartline.resume.${welcome.resume!.token}`,
      ]);
      const again = c2.ofType("welcome")[0]!;
      expect(again).toMatchObject({ sessionId: welcome.sessionId, resumed: { ack: 2 } });
      await until(() => c2.ofType("message").length === 1, "replay");
      expect(c2.ofType("message")).toEqual([{ type: "message", seq: 2, data: { echo: "there" } }]);
      expect(b.log.resumed).toMatchObject([{ sessionId: welcome.sessionId, replayed: 1, ack: 2 }]);
      c2.send({ type: "message", seq: 3, data: "on B" });
      await until(() => b.log.messages.length === 1, "message on B");
      expect(b.log.messages).toEqual([{ data: "on B", seq: 3 }]);
      await until(() => c2.ofType("message").length === 2, "echo on B");
      expect(c2.ofType("message")[1]).toEqual({ type: "message", seq: 3, data: { echo: "on B" } });
      await until(() => a.log.moved.length === 1, "moved on A");
      expect(a.log.moved).toEqual([{ sessionId: welcome.sessionId, undelivered: [] }]);
      expect(a.log.ends).toEqual([]);
      c2.ws.close(1000);
      await until(() => b.log.ends.length === 1, "end on B");
      expect(b.log.ends[0]).toMatchObject({ reason: "client_closed" });
      expect(a.log.ends).toEqual([]);
    });

    it("a burst of 200 client messages echoed over a real socket costs far fewer than 200 round trips to Redis", async () => {
      const [a] = await twoNodes("e2e-burst");
      const c = await TestClient.connect(a.url, ["heartline.v1", "heartline.resume"]);
      await until(() => a.store.stats().inFlight === 0, "quiet");
      const before = a.store.stats();
      // 200 frames sent in one go: they arrive in one or a few reads.
      for (let i = 0; i < 200; i++) c.send({ type: "message", seq: i + 1, data: i });
      await until(() => c.ofType("message").length === 200, "200 echoes", 10_000);
      expect(c.ofType("message").map((m) => m.seq)).toEqual(
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      const after = a.store.stats();
      const batches = after.batches - before.batches;
      console.info(
        `e2e burst: 200 messages in and 200 echoes out -> ${batches} batches (round trips), ${after.commands - before.commands} commands`,
      );
      expect(batches).toBeLessThan(40);
    });

    it("takeover across servers: a resume on B closes the half-open connection on A with 4409 at once, reported replaced once", async () => {
      const [a, b] = await twoNodes("e2e-takeover");
      const c1 = await TestClient.connect(a.url, ["heartline.v1", "heartline.resume"]);
      const welcome = c1.ofType("welcome")[0]!;
      c1.send({ type: "message", seq: 1, data: "x" });
      await until(() => c1.ofType("message").length === 1, "echo");
      const c2 = await TestClient.connect(b.url, [
        "heartline.v1",
        `heartline.resume.${welcome.resume!.token}`,
      ]);
      expect(c2.ofType("welcome")[0]).toMatchObject({
        sessionId: welcome.sessionId,
        resumed: { ack: 1 },
      });
      await c1.closed;
      expect(c1.closeCode).toBe(CloseCode.Replaced);
      await until(() => a.events.disconnects.length === 1, "A's report");
      expect(a.events.disconnects).toMatchObject([
        { sessionId: welcome.sessionId, reason: "replaced", code: 4409 },
      ]);
      await until(() => a.log.moved.length === 1, "moved on A");
      expect(a.log.ends).toEqual([]);
      expect(a.events.disconnects).toHaveLength(1);
    });

    it("close() on A hands its sessions to B at once (sessionAdopted); the client resumes on B with its token", async () => {
      const [a, b] = await twoNodes("e2e-handoff");
      const c1 = await TestClient.connect(a.url, ["heartline.v1", "heartline.resume"]);
      const welcome = c1.ofType("welcome")[0]!;
      c1.send({ type: "message", seq: 1, data: "before" });
      await until(() => c1.ofType("message").length === 1, "echo");
      await a.close();
      await until(() => b.log.adopted.length === 1, "adopted by B", 3000);
      expect(b.log.adopted).toEqual([{ sessionId: welcome.sessionId, from: "A" }]);
      expect(a.log.ends).toEqual([]);
      // B's application reaches the adopted session while it waits.
      expect(b.hl.session(welcome.sessionId)?.send("while waiting")).toBe(true);
      const c2 = await TestClient.connect(b.url, [
        "heartline.v1",
        `heartline.resume.${welcome.resume!.token}`,
      ]);
      expect(c2.ofType("welcome")[0]).toMatchObject({
        sessionId: welcome.sessionId,
        resumed: { ack: 1 },
      });
      await until(() => c2.ofType("message").length >= 1, "replay");
      expect(c2.ofType("message").at(-1)).toMatchObject({ data: "while waiting" });
    });
  },
);

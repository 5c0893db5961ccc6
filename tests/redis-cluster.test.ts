// Three Heartline server processes with presence on one real redis-server
// (REDIS_URL, started by scripts/ci-redis.sh in CI), clients spread across them.

import { CloseCode } from "@heartline/protocol";
import type { PresenceEvent } from "@heartline/redis";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectRedis,
  deletePrefix,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
} from "../packages/redis/test/support/redis-env.js";
import {
  connectClient,
  type NodeProcess,
  startNode,
  type TestClient,
} from "./fixtures/redis/cluster.js";

const intervalMs = 150; // server timeout 2X = 300 ms
const nodeTtlMs = 1500;
const nodeHeartbeatMs = 300;
/** Stated tolerance for node_lost past the TTL: one survivor heartbeat period plus 300 ms of scheduling and I/O. */
const nodeLostToleranceMs = nodeHeartbeatMs + 300;

const isDisconnect = (e: PresenceEvent, sessionId: string, reason?: string): boolean =>
  e.type === "disconnect" &&
  e.sessionId === sessionId &&
  (reason === undefined || e.reason === reason);

describe.skipIf(skipRedisTests)("cluster-wide presence across three server processes", () => {
  let redis: Redis;
  const keyPrefix = uniquePrefix("cluster");
  const nodes: NodeProcess[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    const redisUrl = requireRedisUrl();
    redis = await connectRedis(redisUrl);
    const started = await Promise.all(
      ["a", "b", "c"].map((nodeId) =>
        startNode({ nodeId, redisUrl, keyPrefix, intervalMs, nodeTtlMs, nodeHeartbeatMs }),
      ),
    );
    nodes.push(...started);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
    if (redis) {
      await deletePrefix(redis, keyPrefix);
      await redis.quit();
    }
  });

  const node = (id: string): NodeProcess => nodes.find((n) => n.nodeId === id)!;

  it("lists exactly the connected clients, from any node", async () => {
    // Nine clients, three per node; "shared" is on a and b at once.
    const plan: Array<[string, string]> = [
      ["a", "u1"],
      ["a", "u2"],
      ["a", "shared"],
      ["b", "u3"],
      ["b", "u4"],
      ["b", "shared"],
      ["c", "u5"],
      ["c", "u6"],
      ["c", "u7"],
    ];
    for (const [id, user] of plan)
      clients.push(await connectClient(node(id).port, user, intervalMs));
    for (const c of clients) {
      await node("c").waitForEvent(
        `connect of ${c.user}`,
        (e) => e.type === "connect" && e.sessionId === c.sessionId,
      );
    }
    const expected = clients.map((c) => c.sessionId).sort();
    for (const n of nodes) {
      expect((await n.list()).map((e) => e.sessionId).sort()).toEqual(expected);
    }
    const listed = await node("b").list();
    expect(
      listed
        .filter((e) => e.identity === "shared")
        .map((e) => e.nodeId)
        .sort(),
    ).toEqual(["a", "b"]);

    // Two leave on purpose; the list follows.
    const leaving = [clients[1]!, clients[7]!];
    for (const c of leaving) c.close();
    for (const c of leaving) {
      const { event } = await node("a").waitForEvent(`disconnect of ${c.user}`, (e) =>
        isDisconnect(e, c.sessionId),
      );
      expect(event).toMatchObject({ reason: "client_closed", code: CloseCode.Normal });
    }
    const remaining = expected.filter((s) => !leaving.some((c) => c.sessionId === s));
    expect((await node("c").list()).map((e) => e.sessionId).sort()).toEqual(remaining);
  });

  it("a client that goes silent on node a is seen as timeout from node b", async () => {
    const silent = clients.find((c) => c.user === "u1")!;
    const stoppedAt = Date.now();
    silent.stopPinging();
    const { event, receivedAt } = await node("b").waitForEvent("the timeout", (e) =>
      isDisconnect(e, silent.sessionId),
    );
    expect(event).toMatchObject({
      type: "disconnect",
      nodeId: "a",
      identity: "u1",
      reason: "timeout",
      code: CloseCode.HeartbeatTimeout,
    });
    expect(await silent.closed).toBe(CloseCode.HeartbeatTimeout);
    // Silence began at the last ping (≤ intervalMs before stopping): reported ~2X after it.
    expect(receivedAt - stoppedAt).toBeLessThan(2 * intervalMs + 500);
    expect(await node("b").list()).not.toContainEqual(
      expect.objectContaining({ sessionId: silent.sessionId }),
    );
  });

  it("SIGKILL of node c: its clients are reported node_lost, once, within the TTL plus the stated tolerance", async () => {
    const victims = clients.filter((c) => ["u5", "u6", "u7"].includes(c.user) && c !== clients[7]);
    expect(victims.length).toBe(2);
    const killedAt = Date.now();
    await node("c").kill("SIGKILL");
    const seen = await Promise.all(
      victims.map((v) =>
        node("a").waitForEvent(
          `node_lost of ${v.user}`,
          (e) => isDisconnect(e, v.sessionId),
          nodeTtlMs + 3000,
        ),
      ),
    );
    const detectionMs = Math.max(...seen.map((s) => s.receivedAt)) - killedAt;
    console.log(
      `node_lost detected ${detectionMs} ms after SIGKILL (TTL ${nodeTtlMs} ms, heartbeat ${nodeHeartbeatMs} ms)`,
    );
    for (const s of seen) expect(s.event).toMatchObject({ nodeId: "c", reason: "node_lost" });
    expect(detectionMs).toBeGreaterThanOrEqual(nodeTtlMs - nodeHeartbeatMs);
    expect(detectionMs).toBeLessThanOrEqual(nodeTtlMs + nodeLostToleranceMs);

    // A barrier: one more change, seen by both survivors after everything before it.
    const last = clients.find((c) => c.user === "u4")!;
    last.close();
    for (const n of [node("a"), node("b")]) {
      await n.waitForEvent("the barrier disconnect", (e) => isDisconnect(e, last.sessionId));
      for (const v of victims) {
        // Exactly one disconnect per victim, at each observer: one survivor reaped node c.
        expect(n.events.filter((x) => isDisconnect(x.event, v.sessionId))).toHaveLength(1);
      }
    }
    const live = (await node("a").list()).map((e) => e.nodeId);
    expect(live).not.toContain("c");
  });
});

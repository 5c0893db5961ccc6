// Redis stopped and restarted mid-run under two Heartline server processes.
// The suite runs its own redis-server on a Unix socket (no persistence), so it
// can stop and restart it at the same address; it runs wherever the other
// Redis tests run (REDIS_URL set, or CI).
import { CloseCode } from "@heartline/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type OwnRedis,
  ownRedis,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
  waitFor,
} from "../packages/redis/test/support/redis-env.js";
import {
  connectClient,
  type NodeProcess,
  startNode,
  type TestClient,
} from "./fixtures/redis/cluster.js";

const intervalMs = 150;

describe.skipIf(skipRedisTests)("Redis stopped and restarted mid-run", () => {
  let own: OwnRedis;
  const nodes: NodeProcess[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    requireRedisUrl();
    own = ownRedis();
    await own.start();
    const keyPrefix = uniquePrefix("outage");
    nodes.push(
      ...(await Promise.all(
        ["a", "b"].map((nodeId) =>
          startNode({
            nodeId,
            redisUrl: own.url,
            keyPrefix,
            intervalMs,
            nodeTtlMs: 1500,
            nodeHeartbeatMs: 300,
          }),
        ),
      )),
    );
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
    await own?.dispose();
  });

  it("the servers keep serving and judging clients; presence catches up exactly when Redis returns", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const a1 = await connectClient(a.port, "a1", intervalMs);
    const a2 = await connectClient(a.port, "a2", intervalMs);
    const b1 = await connectClient(b.port, "b1", intervalMs);
    clients.push(a1, a2, b1);
    for (const c of clients) {
      await b.waitForEvent(
        `connect of ${c.user}`,
        (e) => e.type === "connect" && e.sessionId === c.sessionId,
      );
    }

    await own.stop();

    // While Redis is down: a client leaves, a client goes silent and is timed
    // out locally (close 4000), a new client is accepted and served.
    a2.close();
    b1.stopPinging();
    expect(await b1.closed).toBe(CloseCode.HeartbeatTimeout);
    const b2 = await connectClient(b.port, "b2", intervalMs);
    clients.push(b2);

    await own.start();
    // Redis came back empty (no persistence): each node resyncs its own set.
    const expected = [a1.sessionId, b2.sessionId].sort();
    await waitFor(
      "both nodes to resync",
      async () => {
        const listed = (await a.list()).map((e) => e.sessionId).sort();
        return JSON.stringify(listed) === JSON.stringify(expected);
      },
      10_000,
    );
    expect((await b.list()).map((e) => e.sessionId).sort()).toEqual(expected);
    // a1 stayed connected through the outage: its heartbeat never touched Redis.
    const stillOpen = await Promise.race([
      a1.closed,
      new Promise<"open">((r) => setImmediate(() => r("open"))),
    ]);
    expect(stillOpen).toBe("open");
    // Events published while a subscriber's own connection was still coming back
    // are not redelivered (Pub/Sub is at most once): the list above is the truth,
    // and readers are told to re-read it through SubscribeOptions.onGap.
  });
});

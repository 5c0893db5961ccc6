// The session-store contract suite (support/session-store-contract.ts) run once
// against the Redis store on a local three-master Redis Cluster (issue 25):
// three `redis-server --cluster-enabled yes` on loopback, joined with
// `redis-cli --cluster create` (support/redis-cluster-process.ts), reached
// through ioredis's `Cluster`. Every session's keys carry its own hash tag, so
// sessions spread over the three shards and each script touches one slot; a
// key prefix without a tag keeps it that way.
//
// Needs redis-server and redis-cli (Debian: redis-server, which brings
// redis-tools). Like the other Redis tests, skipped with a message outside
// CI without REDIS_URL, and failing under CI=true when they are missing.
import { createRedisSessionStore } from "@heartline/redis";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRedisTests } from "../packages/redis/test/support/redis-env.js";
import { storeSettled } from "../packages/redis/test/support/session-driver.js";
import {
  clusterUnavailable,
  type RedisClusterProcess,
  startRedisCluster,
} from "./support/redis-cluster-process.js";
import { describeSessionStoreContract } from "./support/session-store-contract.js";

let cluster: RedisClusterProcess | undefined;
let client: Cluster | undefined;

describe.skipIf(skipRedisTests)("the Redis session store on a three-master Redis Cluster", () => {
  beforeAll(async () => {
    const missing = await clusterUnavailable();
    if (missing !== undefined) throw new Error(missing);
    cluster = await startRedisCluster();
    client = new Cluster([...cluster.nodes], {
      // The store's recommendation for a Cluster: commands of one turn share a flush per shard.
      enableAutoPipelining: true,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    client.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      client!.once("ready", () => resolve());
      client!.once("error", reject);
    });
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.dispose();
  });

  it("spreads sessions over the three shards (the keys are tagged per session, not per prefix)", async () => {
    const store = createRedisSessionStore({ redis: client!, keyPrefix: "hl-spread:" });
    const { clockOf } = await import("@heartline/protocol");
    const FakeTimers = (await import("@sinonjs/fake-timers")).default;
    const { resumeDefaults, sameClientDefault } = await import("@heartline/server");
    store.start({
      onEnd: () => {},
      onReplaced: () => {},
      onMoved: () => {},
      onAdopted: () => {},
      clock: clockOf(FakeTimers.createClock(1_000_000)),
      options: {
        ...resumeDefaults,
        clientOf: undefined,
        sameClient: sameClientDefault,
      },
    });
    let ids = 0;
    for (let i = 0; i < 30; i++) {
      const opened = await store.open(
        undefined,
        undefined,
        { nodeId: store.nodeId, connectionId: `c${i}` },
        undefined,
        () => `spread-${++ids}`,
      );
      expect(opened.kind).toBe("created");
    }
    // Every master holds some of them.
    const counts = await Promise.all(
      client!.nodes("master").map(async (node) => (await node.keys("hl-spread:*")).length),
    );
    expect(counts).toHaveLength(3);
    for (const n of counts) expect(n).toBeGreaterThan(0);
    await store.shutdown();
  });

  let prefixes = 0;
  describeSessionStoreContract("redis on a three-master Redis Cluster", async () => {
    const store = createRedisSessionStore<string, unknown>({
      redis: client!,
      // No hash tag in the prefix: each session's keys are tagged by the store itself.
      keyPrefix: `hl-contract-${process.pid}-${++prefixes}:`,
      nodeId: `contract-${prefixes}`,
      // The contract moves its fake clock by up to 2 windows with no I/O between:
      // a longer lease keeps this node alive (liveness has tests of its own).
      nodeTtlMs: 600_000,
    });
    return {
      store,
      // Nothing in flight and nothing pending (a cluster may redirect once).
      settle: () => storeSettled(store),
      cleanup: async () => {},
    };
  });
});

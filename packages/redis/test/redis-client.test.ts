// `RedisClient` is structural (issue 20): ioredis's `Redis` and `Cluster` fit
// it (checked by the typecheck), and so does any client with those methods;
// here a hand-written double that is not ioredis serves a presence reader.
import { Cluster, Redis } from "ioredis";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createPresenceReader, type RedisClient } from "../src/index.js";

describe("RedisClient", () => {
  it("is what an ioredis Redis or Cluster is, with no cast", async () => {
    expectTypeOf<Redis>().toExtend<RedisClient>();
    expectTypeOf<Cluster>().toExtend<RedisClient>();
    // Constructed without connecting, passed as they are.
    const single = new Redis({ lazyConnect: true });
    const cluster = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
    try {
      for (const redis of [single, cluster]) {
        const reader = createPresenceReader({ redis });
        await reader.close();
      }
    } finally {
      single.disconnect();
      cluster.disconnect();
    }
  });

  it("is met by a client that is not ioredis: a reader lists through it", async () => {
    const record = { nodeId: "n1", sessionId: "s1", identity: "alice", connectedAt: 5 };
    const calls: string[] = [];
    const data: Record<string, string[]> = {
      "{t}:nodes": ["n1", "gone"],
      "{t}:conns:n1": [JSON.stringify(record)],
    };
    const double: RedisClient = {
      status: "ready",
      evalsha: async () => null,
      eval: async () => null,
      exists: async (key) => {
        calls.push(`exists ${key}`);
        return key === "{t}:hb:n1" ? 1 : 0;
      },
      smembers: async (key) => data[key] ?? [],
      hvals: async (key) => data[key] ?? [],
      subscribe: async () => 1,
      duplicate: () => double,
      quit: async () => "OK",
      disconnect: () => {},
      on: () => double,
      off: () => double,
    };
    const reader = createPresenceReader({ redis: double, keyPrefix: "{t}:" });
    expect(await reader.list()).toEqual([record]);
    expect(await reader.nodes()).toEqual(["n1"]);
    expect(calls).toContain("exists {t}:hb:gone");
    await reader.close();
  });
});

// The store contract suite (tests/support/session-store-contract.ts), the
// same one the in-process store passes, run against createRedisSessionStore
// on a real redis-server: a fresh key prefix and client per case.
import { afterAll, beforeAll } from "vitest";
import { describeSessionStoreContract } from "../../../tests/support/session-store-contract.js";
import { createRedisSessionStore } from "../src/index.js";
import {
  connectRedis,
  deletePrefix,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
} from "./support/redis-env.js";
import { storeSettled } from "./support/session-driver.js";

if (!skipRedisTests) {
  let sweep: Awaited<ReturnType<typeof connectRedis>> | undefined;
  beforeAll(async () => {
    sweep = await connectRedis(requireRedisUrl());
  });
  afterAll(() => sweep?.disconnect());

  describeSessionStoreContract("redis", async () => {
    const redis = await connectRedis(requireRedisUrl());
    const keyPrefix = uniquePrefix("contract").replace(/[{}]/g, "");
    // The contract moves its fake clock by up to 2 windows in one step with no
    // I/O between: a lease longer than that keeps this node alive (liveness
    // has tests of its own).
    const store = createRedisSessionStore<string, unknown>({
      redis,
      keyPrefix,
      nodeTtlMs: 600_000,
    });
    return {
      store,
      settle: () => storeSettled(store),
      cleanup: async () => {
        await deletePrefix(redis, keyPrefix);
        redis.disconnect();
      },
    };
  });
}

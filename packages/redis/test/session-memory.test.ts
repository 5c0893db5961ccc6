// What a session costs in Redis's memory (issue 25, point 9), measured on a
// redis-server of the test's own (no other test's keys in `INFO memory`):
// 1,000 idle sessions, then 10 unacknowledged messages each. Loose bounds,
// so a layout change that multiplies the cost fails; the figures are printed.

import type { StoredSession } from "@heartline/server";
import { describe, expect, it } from "vitest";
import { connectRedis, ownRedis, requireRedisUrl, skipRedisTests } from "./support/redis-env.js";
import {
  type Auth,
  type Data,
  fakeTime,
  send,
  storeSettled,
  TestNode,
} from "./support/session-driver.js";

describe.skipIf(skipRedisTests)("Redis session store: memory per session", () => {
  it("about 400 bytes per idle session and under 100 per small unacknowledged message", async () => {
    requireRedisUrl();
    const own = ownRedis();
    await own.start();
    const r = await connectRedis(own.url);
    try {
      const used = async () => Number(/used_memory:(\d+)/.exec(await r.info("memory"))![1]);
      const a = new TestNode(r, fakeTime(), "mem:", "A");
      await storeSettled(a.store);
      const m0 = await used();
      const sessions: StoredSession<Data, Auth>[] = [];
      for (let i = 0; i < 1000; i++) {
        const o = await a.open(undefined, { user: `user-${i}` });
        if (o.kind === "created") sessions.push(o.session);
      }
      await storeSettled(a.store);
      const m1 = await used();
      for (const s of sessions) send(s, 10);
      await storeSettled(a.store);
      const m2 = await used();
      const perSession = (m1 - m0) / 1000;
      const perMessage = (m2 - m1) / 10_000;
      console.info(
        `Redis memory: ${perSession.toFixed(0)} B per idle session, ${perMessage.toFixed(0)} B per unacked message (frame ${'{"type":"message","seq":1,"data":{"n":0}}'.length} B)`,
      );
      expect(perSession).toBeLessThan(1000);
      expect(perMessage).toBeLessThan(200);
      await a.store.shutdown();
    } finally {
      r.disconnect();
      await own.dispose();
    }
  });
});

// An end decided on a node that cannot reach Redis (a client's close 1000,
// an overflow, the application's close): its write is held, and it is
// reported only when that write is answered, so the session is reported
// exactly once cluster-wide even when a survivor adopted it meanwhile.
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { SessionRedisClient } from "../src/index.js";
import {
  connectRedis,
  deletePrefix,
  ownRedis,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
  waitFor,
} from "./support/redis-env.js";
import {
  advance,
  fakeTime,
  resumeOptions,
  send,
  settle,
  TestNode,
} from "./support/session-driver.js";

/**
 * A client cut off from Redis while `cut.on`: every command and pipeline
 * fails, though the link reads "ready" (a partition the socket has not
 * noticed yet). Its Pub/Sub duplicate is left alone.
 */
function cutClient(redis: SessionRedisClient): {
  client: SessionRedisClient;
  cut: { on: boolean };
} {
  const cut = { on: false };
  const refused = (): Promise<never> => Promise.reject(new Error("cut off from Redis"));
  const client = new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === "pipeline") {
        return () => {
          const p = target.pipeline();
          if (!cut.on) return p;
          return new Proxy(p, {
            get(t, q) {
              if (q === "exec") return refused;
              const v = Reflect.get(t, q);
              return typeof v === "function" ? v.bind(t) : v;
            },
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      if (prop === "call" || prop === "evalsha" || prop === "eval") {
        return (...args: unknown[]) => (cut.on ? refused() : v.apply(target, args));
      }
      return v.bind(target);
    },
  });
  return { client, cut };
}

describe.skipIf(skipRedisTests)("Redis session store: an end decided while Redis is away", () => {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  afterAll(async () => {
    const r = clients[0];
    if (r !== undefined) for (const p of prefixes) await deletePrefix(r, p);
    for (const c of clients) c.disconnect();
  });

  it("is not reported during the outage; reported once, with its undelivered, when Redis is back", async () => {
    requireRedisUrl();
    const own = ownRedis({ persist: true });
    await own.start();
    const r = await connectRedis(own.url);
    try {
      const time = fakeTime();
      const a = new TestNode(r, time, "hl-held-end:", "A");
      const opened = await a.open();
      if (opened.kind !== "created") throw new Error(opened.kind);
      const s = opened.session;
      send(s, 2);
      await waitFor("recorded", () => s.recordedOut === 2);

      await own.stop();
      await waitFor("unavailable", () => !a.store.available);
      send(s, 1, 10); // accepted, never recorded
      // The client's close 1000, decided here: Redis cannot be told.
      const ended = await a.store.end(s, "client_closed", opened.owner);
      await advance(time, 500, 100);
      expect(a.events.ends).toHaveLength(0);
      expect(ended).toBe(false); // not ended yet: held
      // Ending: no further sends (the core's `deliver` refuses an "ended" session), no second end.
      expect(s.state).toBe("ended");
      expect(await a.store.end(s, "server_closed")).toBe(false);
      expect(a.store.stats().pending).toBeGreaterThan(0);
      expect(a.store.counts().sessions).toBe(0); // neither attached nor waiting

      await own.start();
      await waitFor(
        "reported once Redis is back",
        async () => {
          time.tick(100);
          await settle();
          return a.events.ends.length > 0;
        },
        10_000,
      );
      await advance(time, 1000, 250);
      expect(a.events.ends).toHaveLength(1);
      const end = a.events.ends[0]!;
      expect(end.sessionId).toBe(s.sessionId);
      expect(end.reason).toBe("client_closed");
      expect(end.undelivered.map((m) => m.seq)).toEqual([1, 2, 3]);
      expect(a.events.moved).toHaveLength(0);
      expect(a.events.replaced).toHaveLength(0);
      // Ended in Redis too: the token no longer resumes.
      expect((await a.open(opened.token)).kind).toBe("created");
      await a.store.shutdown();
    } finally {
      r.disconnect();
      await own.dispose();
    }
  });

  it("cut off past the lease while a survivor adopts it: moved here, the survivor's end the one report", async () => {
    const url = requireRedisUrl();
    const kp = uniquePrefix("held-end").replace(/[{}]/g, "");
    prefixes.push(kp);
    const ra = await connectRedis(url);
    const rb = await connectRedis(url);
    clients.push(ra, rb);
    const { client, cut } = cutClient(ra);
    const options = resumeOptions({ windowMs: 5000 });
    const time = fakeTime();
    const a = new TestNode(client, time, kp, "A", options);
    const b = new TestNode(rb, time, kp, "B", options);
    await settle();
    const opened = await a.open();
    if (opened.kind !== "created") throw new Error(opened.kind);
    const s = opened.session;
    send(s, 2);
    await waitFor("recorded", () => s.recordedOut === 2);

    cut.on = true;
    send(s, 1, 10); // accepted, never recorded
    await a.store.end(s, "client_closed", opened.owner);
    expect(a.events.ends).toHaveLength(0);
    // A's lease (3 s) lapses: B adopts the session, still live in Redis.
    await advance(time, 4000);
    await waitFor("adopted", () => b.events.adopted.length === 1);
    expect(b.events.adopted[0]!.sessionId).toBe(s.sessionId);
    expect(a.events.ends).toHaveLength(0);

    // A reaches Redis again: its held end is fenced, the session moved.
    cut.on = false;
    await waitFor(
      "moved on A",
      async () => {
        time.tick(100);
        await settle();
        return a.events.moved.length === 1;
      },
      10_000,
    );
    expect(a.events.moved[0]!.sessionId).toBe(s.sessionId);
    expect(a.events.moved[0]!.unrecorded.map((m) => m.seq)).toEqual([3]);
    expect(a.events.replaced).toHaveLength(0);

    // B's window (from adoption) ends: the one end, with what was recorded.
    await advance(time, 6000, 500);
    await waitFor("ended on B", () => b.events.ends.length === 1);
    await advance(time, 2000, 500);
    const ends = [...a.events.ends, ...b.events.ends];
    expect(ends).toHaveLength(1);
    expect(ends[0]!.sessionId).toBe(s.sessionId);
    expect(ends[0]!.reason).toBe("expired");
    expect(ends[0]!.undelivered.map((m) => m.seq)).toEqual([1, 2]);
    await a.store.shutdown();
    await b.store.shutdown();
  });
});

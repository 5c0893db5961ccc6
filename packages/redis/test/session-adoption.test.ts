// Issue 25 point 5: a dead node's sessions are adopted by the survivors, each
// exactly once however many survivors race, wait on their adopter (window
// from adoption), and are ended once cluster-wide with their undelivered
// messages. `shutdown` hands a node's sessions over at once.
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectRedis,
  deletePrefix,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
  waitFor,
} from "./support/redis-env.js";
import {
  advance,
  type Data,
  fakeTime,
  receive,
  resumeOptions,
  send,
  settle,
  TestNode,
} from "./support/session-driver.js";

describe.skipIf(skipRedisTests)("Redis session store: adoption and expiry", () => {
  let redis: Redis;
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  async function client(): Promise<Redis> {
    const r = await connectRedis(requireRedisUrl());
    clients.push(r);
    return r;
  }
  function prefix(label: string): string {
    const p = uniquePrefix(label).replace(/[{}]/g, "");
    prefixes.push(p);
    return p;
  }
  beforeAll(async () => {
    redis = await client();
  });
  afterAll(async () => {
    for (const p of prefixes) await deletePrefix(redis, p);
    for (const c of clients) c.disconnect();
  });

  it("a dead node's 20 sessions are adopted exactly once by two competing survivors, then end once each at their window's end", async () => {
    const kp = prefix("adopt");
    const options = resumeOptions({ windowMs: 5000 });
    // A's clock never moves again after its work: A is frozen (SIGSTOPped, or dead).
    const frozen = fakeTime();
    const a = new TestNode(await client(), frozen, kp, "A", options);
    const sent = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const o = await a.open();
      if (o.kind !== "created") throw new Error(o.kind);
      send(o.session, i % 4, 1000 * i); // 0–3 messages each, never acknowledged
      receive(o.session, i);
      sent.set(o.session.sessionId, i % 4);
      await waitFor("recorded", () => o.session.recordedOut === i % 4);
      if (i % 2 === 0) await a.store.detach(o.session, o.owner); // half waiting, half attached
    }
    await settle();
    const time = fakeTime(frozen.now());
    const b = new TestNode(await client(), time, kp, "B", options);
    const c = new TestNode(await client(), time, kp, "C", options);
    await settle();
    // A's lease (3 s) lapses at T+3000: nothing is adopted before that.
    await advance(time, 2750);
    expect(b.events.adopted.length + c.events.adopted.length).toBe(0);
    await advance(time, 1250);
    await waitFor("all adopted", () => b.events.adopted.length + c.events.adopted.length === 20);
    const adoptedIds = [...b.events.adopted, ...c.events.adopted].map((s) => s.sessionId);
    expect(new Set(adoptedIds).size).toBe(20);
    const lost = b.store.stats().adoptionsLost + c.store.stats().adoptionsLost;
    console.info(
      `adoption: B took ${b.events.adopted.length}, C took ${c.events.adopted.length}, ${lost} attempts refused by the script`,
    );
    // Both survivors swept A's index (20 wins and the losers' refusals), and every session has one adopter.
    expect(b.events.adopted.length + c.events.adopted.length + lost).toBeGreaterThan(20);
    for (const s of [...b.events.adopted, ...c.events.adopted]) {
      expect(s.state).toBe("detached");
      expect(s.unacked.size).toBe(sent.get(s.sessionId));
      expect((s as unknown as { adoptedFrom: string }).adoptedFrom).toBe("A");
    }
    expect(b.store.counts().adopted + c.store.counts().adopted).toBe(20);
    // Windows start at adoption (at most one heartbeat after the lapse): end once each.
    await advance(time, 7000, 500);
    await waitFor("all ended", () => b.events.ends.length + c.events.ends.length === 20);
    await advance(time, 5000, 1000);
    const ends = [...b.events.ends, ...c.events.ends];
    expect(ends).toHaveLength(20);
    expect(new Set(ends.map((e) => e.sessionId)).size).toBe(20);
    for (const e of ends) {
      expect(e.reason).toBe("expired");
      expect(e.undelivered).toHaveLength(sent.get(e.sessionId)!);
      e.undelivered.forEach((m, k) => {
        expect(m.seq).toBe(k + 1);
        expect((m.data as Data).n % 1000).toBe(k);
      });
    }
    // A, woken up, finds its lease gone: it hands nothing back and reports nothing as ended.
    expect(a.events.ends).toHaveLength(0);
    await b.store.shutdown();
    await c.store.shutdown();
    await a.store.shutdown();
  });

  it("shutdown hands every session to a survivor at once, without waiting for the lease; the survivor's window starts then", async () => {
    const kp = prefix("handoff");
    const time = fakeTime();
    const options = resumeOptions({ windowMs: 5000 });
    const a = new TestNode(await client(), time, kp, "A", options);
    const b = new TestNode(await client(), time, kp, "B", options);
    const attached = await a.open();
    const waiting = await a.open();
    if (attached.kind !== "created" || waiting.kind !== "created") throw new Error("not created");
    send(attached.session, 2);
    await a.store.detach(waiting.session, waiting.owner);
    await settle();
    await a.store.shutdown();
    // No time passes: B adopts on A's notice.
    await waitFor("both adopted by B", () => b.events.adopted.length === 2);
    const moved = b.events.adopted.find((s) => s.sessionId === attached.session.sessionId)!;
    expect(moved.unacked.size).toBe(2); // what A had pending was recorded before it left
    // The client resumes on B with the token it had.
    const resumed = await b.open(attached.token);
    expect(resumed.kind).toBe("resumed");
    if (resumed.kind === "resumed") expect(resumed.session).toBe(moved);
    await b.store.shutdown();
  });
});

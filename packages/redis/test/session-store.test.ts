// Issue 25: the Redis session store, driven directly (no server): several
// "nodes" in one process, each with its own ioredis client, on fake clocks.
import { ResumeFailure } from "@heartline/protocol";
import type { StoredSession } from "@heartline/server";
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
  type Auth,
  ack,
  advance,
  countingClient,
  type Data,
  deafClient,
  fakeTime,
  receive,
  resumeOptions,
  send,
  settle,
  TestNode,
} from "./support/session-driver.js";

describe.skipIf(skipRedisTests)("Redis session store (real redis-server)", () => {
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

  it("create, record, detach, resume on another node: the replay is the recorded unacked range, the old copy moves", async () => {
    const time = fakeTime();
    const kp = prefix("move");
    const a = new TestNode(await client(), time, kp, "A");
    const b = new TestNode(await client(), time, kp, "B");
    const opened = await a.open();
    expect(opened.kind).toBe("created");
    if (opened.kind !== "created") return;
    const s = opened.session;
    let recorded = 0;
    s.onRecorded = () => recorded++;
    send(s, 5);
    receive(s, 3);
    expect(s.recordedOut).toBe(0); // nothing may be written before it is recorded
    expect(s.recordedIn).toBe(0);
    await waitFor("recorded", () => s.recordedOut === 5);
    expect(s.recordedIn).toBe(3);
    expect(recorded).toBe(1); // one batch recorded all of it
    ack(s, 2);
    await settle();
    expect(await a.store.detach(s, opened.owner)).toBe(true);
    expect(a.store.counts()).toMatchObject({ sessions: 1, detached: 1 });
    time.tick(4000);
    const resumed = await b.open(opened.token);
    expect(resumed.kind).toBe("resumed");
    if (resumed.kind !== "resumed") return;
    expect(resumed.session.sessionId).toBe(s.sessionId);
    expect(resumed.session.receivedSeq).toBe(3);
    expect(resumed.gapMs).toBe(4000);
    expect(resumed.replaced).toBeUndefined();
    // Exactly the unacked range, 3..5, in order, with its data.
    const replay: Array<[number, string]> = [];
    resumed.session.unacked.replay((text, seq) => replay.push([seq, text]));
    expect(replay.map(([seq]) => seq)).toEqual([3, 4, 5]);
    expect(replay[0]![1]).toBe('{"type":"message","seq":3,"data":{"n":2}}');
    expect(resumed.session.unacked.nextSeq).toBe(6);
    // A's waiting copy learns (notice) that it moved; nothing is reported as an end.
    await waitFor("moved on A", () => a.events.moved.length === 1);
    expect(a.events.moved[0]).toEqual({ sessionId: s.sessionId, unrecorded: [] });
    expect(a.store.counts().sessions).toBe(0);
    expect(a.events.ends).toEqual([]);
    // The token presented still works until the new connection proves alive; then it is spent.
    resumed.session.tokenProven();
    await settle();
    const again = await a.open(opened.token);
    expect(again.kind).toBe("created");
    if (again.kind === "created") expect(again.failure).toBe(ResumeFailure.Unknown);
    await a.store.shutdown();
    await b.store.shutdown();
  });

  it("a burst of N messages over many sessions costs a few round trips, not N", async () => {
    const time = fakeTime();
    const kp = prefix("burst");
    const counted = countingClient(await client());
    const a = new TestNode(counted.client, time, kp, "A");
    const sessions: StoredSession<Data, Auth>[] = [];
    for (let i = 0; i < 10; i++) {
      const o = await a.open();
      if (o.kind === "created") sessions.push(o.session);
    }
    await settle();
    const before = { ...counted.counts };
    const batchesBefore = a.store.stats().batches;
    const stats0 = await commandStats(redis);
    // 1,000 messages out and 1,000 in, in one turn of the event loop.
    for (const s of sessions) {
      send(s, 100);
      receive(s, 100);
    }
    await waitFor("all recorded", () =>
      sessions.every((s) => s.recordedOut === 100 && s.recordedIn === 100),
    );
    const pipelines = counted.counts.pipelines - before.pipelines;
    const batches = a.store.stats().batches - batchesBefore;
    const evalshas = (await commandStats(redis)) - stats0;
    console.info(
      `burst: 2,000 journal events on 10 sessions -> ${pipelines} pipeline(s), ${batches} batch(es), ${evalshas} EVALSHA calls in Redis`,
    );
    expect(pipelines).toBe(1);
    expect(batches).toBe(1);
    expect(evalshas).toBeLessThanOrEqual(10); // one journal script per session, none per message
    expect(counted.counts.single - before.single).toBe(0);
    await a.store.shutdown();
  });

  it("takeover across nodes: B's resume closes A's connection at once (onReplaced), reported once", async () => {
    const time = fakeTime();
    const kp = prefix("takeover");
    const a = new TestNode(await client(), time, kp, "A");
    const b = new TestNode(await client(), time, kp, "B");
    const opened = await a.open();
    if (opened.kind !== "created") throw new Error("not created");
    send(opened.session, 2);
    await waitFor("recorded", () => opened.session.recordedOut === 2);
    const taken = await b.open(opened.token);
    expect(taken.kind).toBe("resumed");
    if (taken.kind !== "resumed") return;
    expect(taken.replaced).toEqual(opened.owner);
    expect(taken.gapMs).toBe(0);
    await waitFor("replaced on A", () => a.events.replaced.length === 1);
    expect(a.events.replaced[0]).toEqual({ owner: opened.owner, unrecorded: [] });
    expect(opened.session.state).toBe("ended");
    // A's late detach of that connection does nothing.
    expect(await a.store.detach(opened.session, opened.owner)).toBe(false);
    await settle();
    expect(a.events.replaced).toHaveLength(1);
    expect(a.events.ends).toHaveLength(0);
    await a.store.shutdown();
    await b.store.shutdown();
  });

  it("a stale owner that missed the notice is fenced: its writes are refused, never applied, and reported", async () => {
    const time = fakeTime();
    const kp = prefix("fence");
    const a = new TestNode(deafClient(await client()), time, kp, "A");
    const b = new TestNode(await client(), time, kp, "B");
    const opened = await a.open();
    if (opened.kind !== "created") throw new Error("not created");
    send(opened.session, 1);
    await waitFor("recorded", () => opened.session.recordedOut === 1);
    const taken = await b.open(opened.token);
    if (taken.kind !== "resumed") throw new Error("not resumed");
    await settle();
    expect(a.events.replaced).toHaveLength(0); // the notice never reached A
    // A, unaware, accepts two more messages and a client message: its batch is refused.
    send(opened.session, 2, 100);
    receive(opened.session, 9);
    await waitFor("fenced", () => a.events.replaced.length === 1);
    expect(a.events.replaced[0]!.unrecorded.map((m) => m.seq)).toEqual([2, 3]);
    expect(a.events.replaced[0]!.unrecorded.map((m) => m.data)).toEqual([{ n: 100 }, { n: 101 }]);
    expect(opened.session.recordedOut).toBe(1); // never written to the client
    // Redis holds B's session untouched by A.
    const id = opened.token.split(".")[0]!;
    expect(await redis.lrange(`${kp}{s:${id}}:m`, 0, -1)).toEqual([
      '{"type":"message","seq":1,"data":{"n":0}}',
    ]);
    expect(await redis.hget(`${kp}{s:${id}}:s`, "rs")).toBe("0");
    await a.store.shutdown();
    await b.store.shutdown();
  });

  it("a stolen token (wrong secret) on another node is refused as unknown, a different client as mismatch; the session is untouched", async () => {
    const time = fakeTime();
    const kp = prefix("stolen");
    const a = new TestNode(await client(), time, kp, "A");
    const b = new TestNode(await client(), time, kp, "B");
    const opened = await a.open(undefined, { user: "alice" });
    if (opened.kind !== "created") throw new Error("not created");
    await a.store.detach(opened.session, opened.owner);
    const [id] = opened.token.split(".");
    const forged = await b.open(`${id}.AAAAAAAAAAAAAAAAAAAAAAAA`, { user: "alice" });
    expect(forged.kind).toBe("created");
    if (forged.kind === "created") expect(forged.failure).toBe(ResumeFailure.Unknown);
    const other = await b.open(opened.token, { user: "mallory" });
    expect(other.kind).toBe("created");
    if (other.kind === "created") expect(other.failure).toBe(ResumeFailure.Mismatch);
    expect(a.events.moved).toHaveLength(0);
    const rightful = await b.open(opened.token, { user: "alice" });
    expect(rightful.kind).toBe("resumed");
    await a.store.shutdown();
    await b.store.shutdown();
  });

  it("a resume whose read fails answers unavailable (token kept); a probe after retryMs makes the store available again", async () => {
    const time = fakeTime();
    const kp = prefix("probe");
    const real = await client();
    let failNext = false;
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === "call") {
          return (...args: unknown[]) => {
            if (failNext && args[0] === "HGETALL") {
              failNext = false;
              return Promise.reject(new Error("LOADING Redis is loading the dataset in memory"));
            }
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const a = new TestNode(flaky, time, kp, "A");
    const opened = await a.open();
    if (opened.kind !== "created") throw new Error(opened.kind);
    await a.store.detach(opened.session, opened.owner);
    failNext = true;
    expect((await a.open(opened.token)).kind).toBe("unavailable");
    expect(a.events.availability).toEqual([false]);
    expect(a.store.available).toBe(false);
    await advance(time, 50, 50); // retryMs in the driver: the probe answers
    await waitFor("available", () => a.store.available);
    expect(a.events.availability).toEqual([false, true]);
    expect((await a.open(opened.token)).kind).toBe("resumed");
    await a.store.shutdown();
  });

  it("expiry at the window's exact end, once, with the undelivered messages; the next resume hears expired", async () => {
    const time = fakeTime();
    const kp = prefix("expiry");
    const a = new TestNode(await client(), time, kp, "A", resumeOptions({ windowMs: 5000 }));
    const opened = await a.open();
    if (opened.kind !== "created") throw new Error("not created");
    send(opened.session, 3);
    ack(opened.session, 1);
    await a.store.detach(opened.session, opened.owner);
    await advance(time, 4999);
    expect(a.events.ends).toHaveLength(0);
    time.tick(1);
    await waitFor("ended", () => a.events.ends.length === 1);
    expect(a.events.ends[0]).toMatchObject({
      sessionId: opened.session.sessionId,
      reason: "expired",
      undelivered: [
        { seq: 2, data: { n: 1 } },
        { seq: 3, data: { n: 2 } },
      ],
    });
    const late = await a.open(opened.token);
    if (late.kind === "created") expect(late.failure).toBe(ResumeFailure.Expired);
    else throw new Error(late.kind);
    await advance(time, 20_000, 1000);
    expect(a.events.ends).toHaveLength(1);
    expect(a.events.moved).toHaveLength(0);
    await a.store.shutdown();
  });
});

async function commandStats(redis: Redis): Promise<number> {
  const info = await redis.info("commandstats");
  const m = /cmdstat_evalsha:calls=(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

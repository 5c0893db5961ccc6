// Issue 25 point 7: a Redis outage. New sessions are plain, resumes are
// "unavailable" (503, token untouched), attached sessions hold what they
// could not record (nothing acknowledged or written unrecorded) and catch up
// when Redis is back; a Redis that restarted empty answers old tokens
// `unknown`, never a wrong replay. Each test runs a redis-server of its own.
import { ResumeFailure } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import {
  connectRedis,
  ownRedis,
  requireRedisUrl,
  skipRedisTests,
  waitFor,
} from "./support/redis-env.js";
import { fakeTime, receive, send, settle, TestNode } from "./support/session-driver.js";

describe.skipIf(skipRedisTests)("Redis session store: outage (an own redis-server)", () => {
  it("Redis stopped and back (persisted): plain, unavailable, held writes, then everything recorded and the token still resumes", async () => {
    requireRedisUrl();
    const own = ownRedis({ persist: true });
    await own.start();
    const r = await connectRedis(own.url);
    try {
      const time = fakeTime();
      const a = new TestNode(r, time, "hl-outage:", "A");
      const attached = await a.open();
      const parked = await a.open();
      if (attached.kind !== "created" || parked.kind !== "created") throw new Error("not created");
      await a.store.detach(parked.session, parked.owner);
      send(attached.session, 1);
      await waitFor("recorded", () => attached.session.recordedOut === 1);
      expect(a.store.available).toBe(true);

      await own.stop();
      await waitFor("unavailable", () => !a.store.available);
      expect(a.events.availability).toEqual([false]);
      expect((await a.open()).kind).toBe("plain");
      expect((await a.open(parked.token)).kind).toBe("unavailable");
      // Held: sent and received during the outage are not recorded, so not written or acknowledged.
      send(attached.session, 3, 10);
      receive(attached.session, 4);
      await settle();
      expect(attached.session.recordedOut).toBe(1);
      expect(attached.session.recordedIn).toBe(0);
      expect(a.events.replaced).toHaveLength(0);

      await own.start();
      await waitFor("recorded after the outage", () => attached.session.recordedOut === 4, 10_000);
      expect(attached.session.recordedIn).toBe(4);
      await waitFor("available", () => a.store.available);
      expect(a.events.availability).toEqual([false, true]); // once per change
      // The token refused with 503 during the outage was not spent.
      const back = await a.open(parked.token);
      expect(back.kind).toBe("resumed");
      expect(a.events.ends).toHaveLength(0);
      await a.store.shutdown();
    } finally {
      r.disconnect();
      await own.dispose();
    }
  });

  it("an outage longer than the lease: the node gives its sessions up, re-registers, adopts them back from Redis; the token resumes with the recorded replay", async () => {
    requireRedisUrl();
    const own = ownRedis({ persist: true });
    await own.start();
    const r = await connectRedis(own.url);
    try {
      const time = fakeTime();
      const a = new TestNode(r, time, "hl-long-outage:", "A");
      const opened = await a.open();
      if (opened.kind !== "created") throw new Error(opened.kind);
      send(opened.session, 2);
      await waitFor("recorded", () => opened.session.recordedOut === 2);
      await own.stop();
      await waitFor("unavailable", () => !a.store.available);
      // 5 s pass with Redis away (the lease is 3 s): no heartbeat can renew it.
      for (let i = 0; i < 20; i++) {
        time.tick(250);
        await settle();
      }
      await own.start();
      await waitFor("given up", () => a.events.replaced.length === 1, 10_000);
      expect(a.events.replaced[0]!.unrecorded).toEqual([]); // everything was recorded
      expect(a.events.errors).toContain("session_store_lease_lost");
      // Its next heartbeat finds its old incarnation dead and adopts the session back.
      await waitFor(
        "adopted back",
        async () => {
          time.tick(250);
          await settle();
          return a.events.adopted.length === 1;
        },
        10_000,
      );
      const back = await a.open(opened.token);
      expect(back.kind).toBe("resumed");
      if (back.kind !== "resumed") return;
      const replay: number[] = [];
      back.session.unacked.replay((_text, seq) => replay.push(seq));
      expect(replay).toEqual([1, 2]);
      expect(a.events.ends).toHaveLength(0);
      await a.store.shutdown();
    } finally {
      r.disconnect();
      await own.dispose();
    }
  });

  it("Redis restarted empty: an old token answers unknown (never a wrong replay); an attached session that vanished is reported with everything it held", async () => {
    requireRedisUrl();
    const own = ownRedis();
    await own.start();
    const r = await connectRedis(own.url);
    try {
      const time = fakeTime();
      const a = new TestNode(r, time, "hl-empty:", "A");
      const attached = await a.open();
      const parked = await a.open();
      if (attached.kind !== "created" || parked.kind !== "created") throw new Error("not created");
      send(attached.session, 2);
      await waitFor("recorded", () => attached.session.recordedOut === 2);
      await a.store.detach(parked.session, parked.owner);
      await own.stop();
      await own.start();
      await waitFor("available", () => a.store.available && r.status === "ready", 10_000);
      const old = await a.open(parked.token);
      expect(old.kind).toBe("created");
      if (old.kind === "created") expect(old.failure).toBe(ResumeFailure.Unknown);
      // Back, the node finds its lease and sessions gone: the attached one is
      // not this node's to continue, and is reported with everything it held
      // (its recorded messages were lost with Redis's memory).
      await waitFor("reported", () => a.events.replaced.length === 1);
      expect(a.events.replaced[0]!.owner).toEqual(attached.owner);
      expect(a.events.replaced[0]!.unrecorded.map((m) => m.seq)).toEqual([1, 2]);
      expect(attached.session.state).toBe("ended");
      await a.store.shutdown();
    } finally {
      r.disconnect();
      await own.dispose();
    }
  });
});

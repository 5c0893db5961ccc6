// Redis going away under running nodes (issue 25, point 7), on a
// redis-server of the test's own (support/redis-server-process.ts: a free
// loopback port, stopped and started again on the same port):
// - an outage and its return: new sessions are plain v1 meanwhile, a resume
//   gets 503 with Retry-After and its token is not spent; afterwards the same
//   token resumes and new sessions are resumable again (Redis kept its data:
//   AOF, stopped cleanly);
// - a restart without persistence: every key gone, an old token answers
//   `unknown` with a new session and no replay, never a wrong one.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { skipRedisTests, uniquePrefix } from "../packages/redis/test/support/redis-env.js";
import { openRawSession, rawSession } from "./support/raw-session.js";
import {
  disposeAllRedisServers,
  type RedisServerProcess,
  startRedisServer,
} from "./support/redis-server-process.js";
import { type SessionCluster, startSessionCluster } from "./support/session-cluster.js";
import { type StreamClient, startStreamClient, until } from "./support/stream-client.js";
import { failures, streamVerdict } from "./support/stream-ledger.js";

const intervalMs = 200;

let cluster: SessionCluster | undefined;
const clients: StreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cluster?.stop();
  cluster = undefined;
});
afterAll(disposeAllRedisServers);

async function twoNodes(redis: RedisServerProcess): Promise<SessionCluster> {
  cluster = await startSessionCluster(["a", "b"], {
    redisUrl: redis.url,
    keyPrefix: uniquePrefix("outage"),
    intervalMs,
    windowMs: 20_000,
    nodeTtlMs: 3000,
    nodeHeartbeatMs: 500,
    // Presence has its own outage tests (packages/redis); here it would only add noise.
    presence: false,
  });
  return cluster;
}

/** Retries a fresh resumable connection until its welcome carries `resume` (the store is back). */
async function resumableAgain(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const s = await rawSession(url);
    s.ws.close(1000);
    if (s.welcome.resume !== undefined) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("new sessions stayed plain v1 for 10 s after Redis came back");
}

describe.skipIf(skipRedisTests)("resumable sessions while Redis is away", () => {
  it("an outage: new sessions plain v1, a resume 503 + Retry-After with its token kept; afterwards the token resumes", async () => {
    const redis = await startRedisServer({ persistence: true, name: "outage redis" });
    const c = await twoNodes(redis);
    const first = await rawSession(c.node("a").url("u1"));
    first.beat(intervalMs);
    const token = first.welcome.resume!.token;
    first.message(1, "m1");
    await until("m1 acknowledged (recorded)", () => first.frames.some((f) => f.type === "ack"));
    first.drop();
    await c.node("a").child.waitFor("a's disconnect", (l) => l.type === "disconnect");

    await redis.stop();
    await until(
      "both stores unavailable",
      () => !c.node("a").available() && !c.node("b").available(),
    );
    // A new session meanwhile: accepted, plain v1 (no `resume` in its welcome).
    const plain = await rawSession(c.node("b").url("u2"));
    expect(plain.welcome.resume).toBeUndefined();
    expect(plain.welcome.sessionId).toBeTruthy();
    plain.ws.close(1000);

    // A resume meanwhile: 503 with Retry-After, reason store_unavailable, the token not spent.
    const refused = await openRawSession(c.node("b").url("u1"), token);
    expect(refused).toMatchObject({ kind: "refused", status: 503 });
    expect(Number((refused as { retryAfter?: string }).retryAfter)).toBeGreaterThanOrEqual(1);
    await c
      .node("b")
      .child.waitFor(
        "b's store_unavailable refusal",
        (l) => l.type === "rejected" && l.status === 503 && l.reason === "store_unavailable",
      );

    await redis.start(); // AOF: the sessions are back
    await until(
      "both stores available again",
      () => c.node("a").available() && c.node("b").available(),
    );
    await resumableAgain(c.node("a").url("u3"));
    const back = await rawSession(c.node("b").url("u1"), token);
    expect(back.welcome.sessionId).toBe(first.welcome.sessionId);
    expect(back.welcome.resumed).toEqual({ ack: 1 });
    back.ws.close(1000);
    // m1 was handed to the application once, on a; nothing again on b.
    expect(c.all("message").filter((l) => l.data === "m1")).toHaveLength(1);
  }, 60_000);

  it("a Redis restart without persistence: old tokens answer unknown with a new session and no replay", async () => {
    const redis = await startRedisServer({ persistence: false, name: "empty-restart redis" });
    const c = await twoNodes(redis);
    const first = await rawSession(c.node("a").url("u1"));
    first.beat(intervalMs);
    const token = first.welcome.resume!.token;
    const sessionId = first.welcome.sessionId;
    const sent = await c.node("a").child.request("send", { sessionId, data: "s1" });
    expect(sent.ok).toBe(true);
    await until("s1 at the client", () => first.frames.some((f) => f.type === "message"));
    first.drop(); // unacknowledged: s1 would be replayed by a resume
    await c.node("a").child.waitFor("a's disconnect", (l) => l.type === "disconnect");

    await redis.kill();
    await until(
      "the stores see the outage",
      () => !c.node("a").available() && !c.node("b").available(),
    );
    await redis.start(); // empty
    await until(
      "both stores available again",
      () => c.node("a").available() && c.node("b").available(),
    );
    await resumableAgain(c.node("b").url("u3"));

    const back = await rawSession(c.node("b").url("u1"), token);
    expect(back.welcome.resumeFailed).toBe("unknown");
    expect(back.welcome.sessionId).not.toBe(sessionId);
    expect(back.welcome.resumed).toBeUndefined();
    expect(back.welcome.resume).toBeDefined(); // the new session is resumable
    await new Promise((r) => setTimeout(r, 3 * intervalMs));
    expect(back.frames.filter((f) => f.type === "message")).toEqual([]); // no replay at all
    back.ws.close(1000);
    // Node a still holds the session locally (it waits there): it must not be resumed from it either.
    const again = await rawSession(c.node("a").url("u1"), token);
    expect(again.welcome.resumed).toBeUndefined();
    expect(again.frames.filter((f) => f.type === "message")).toEqual([]);
    again.ws.close(1000);
  }, 60_000);

  it("attached sessions hold through an outage: nothing acknowledged or echoed that was not recorded; afterwards everything flows, exactly once", async () => {
    const redis = await startRedisServer({ persistence: true, name: "held redis" });
    const c = await twoNodes(redis);
    const streams = ["a", "b"].flatMap((id) =>
      [0, 1].map((i) =>
        startStreamClient({ user: `${id}${i}`, url: () => c.node(id).url(`${id}${i}`) }),
      ),
    );
    clients.push(...streams);
    await until("every client open", () => streams.every((s) => s.client.state === "open"));
    for (const s of streams) s.stream(20);
    await new Promise((r) => setTimeout(r, 300));

    await redis.stop();
    await until(
      "both stores unavailable",
      () => !c.node("a").available() && !c.node("b").available(),
    );
    // A moment for what was recorded before the stop to arrive; from then on nothing may.
    await new Promise((r) => setTimeout(r, 200));
    const echoesAt = streams.map((s) => s.echoes.length);
    const unackedAt = streams.map((s) => s.client.stats.unacked);
    await new Promise((r) => setTimeout(r, 800));
    // No echo written (none could be recorded), no ack (no receipt recorded): the unacked grow.
    expect(streams.map((s) => s.echoes.length)).toEqual(echoesAt);
    streams.forEach((s, i) => {
      expect(s.client.stats.unacked).toBeGreaterThan(unackedAt[i]!);
    });
    // The connections held: no client saw its link end.
    for (const s of streams) expect(s.disconnects).toEqual([]);

    await redis.start();
    await until(
      "both stores available again",
      () => c.node("a").available() && c.node("b").available(),
    );
    await new Promise((r) => setTimeout(r, 300));
    for (const s of streams) s.stop();
    await until(
      "everything acknowledged and echoed",
      () =>
        streams.every(
          (s) =>
            s.client.stats.unacked === 0 &&
            Object.keys(failures(streamVerdict(s, c.records()))).length === 0,
        ),
      15_000,
      () =>
        JSON.stringify(
          streams.map((s) => ({
            user: s.user,
            unacked: s.client.stats.unacked,
            f: failures(streamVerdict(s, c.records())),
          })),
        ),
    );
    for (const s of streams) {
      const v = streamVerdict(s, c.records());
      expect(failures(v), s.user).toEqual({});
      expect(v.repeatedInWindow).toEqual([]); // no process lost: strictly once
      expect(s.reported).toEqual([]);
      expect(s.opens).toHaveLength(1); // never reconnected
    }
    expect(c.all("sessionEnd")).toEqual([]);
  }, 60_000);
});

// The resume contract as a property across nodes (issue 25): random
// interleavings of sends both ways, acks, drops, resumes on any of three
// nodes (takeovers included) and the kill of a node (its clock frozen, its
// lease lapsing, a survivor adopting), on the Redis session store driven
// directly. Every server message is delivered to the client exactly once and
// in order, or reported (at the session's end, or as never recorded by a node
// that lost the session), never both for a message the client saw as
// delivered and the node reported as never written; every client message
// reaches a server application in order, more than once only after a kill
// (the one documented window). A fixed seed and a few runs keep CI
// deterministic (HL_MODEL_RUNS for a longer hunt, HL_MODEL_SEED to replay).
import type { StoredSession } from "@heartline/server";
import fc from "fast-check";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectRedis,
  deletePrefix,
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
} from "../packages/redis/test/support/redis-env.js";
import {
  type Auth,
  type Data,
  fakeTime,
  resumeOptions,
  storeSettled,
  TestNode,
} from "../packages/redis/test/support/session-driver.js";

const SEED = Number(process.env.HL_MODEL_SEED ?? 2525);
const RUNS = Number(process.env.HL_MODEL_RUNS ?? 12);
const NODES = ["A", "B", "C"] as const;
const LEASE = { nodeTtlMs: 3000, nodeHeartbeatMs: 1000 };

type Step =
  | { kind: "serverSend"; n: number }
  | { kind: "clientSend"; n: number }
  /** The client acknowledges what it delivered but the last `lag` (acks lag behind delivery). */
  | { kind: "clientAck"; lag: number }
  | { kind: "drop" }
  | { kind: "resume"; on: number }
  /** The host dies (SIGKILL): `inFlight` messages each way were accepted there just before, unrecorded. */
  | { kind: "kill"; inFlight: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("serverSend" as const),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("clientSend" as const),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("clientAck" as const),
      lag: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "drop" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("resume" as const),
      on: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("kill" as const),
      inFlight: fc.integer({ min: 0, max: 2 }),
    }),
  },
);

describe.skipIf(skipRedisTests)("resume model across nodes (Redis session store)", () => {
  let sweep: Redis;
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  beforeAll(async () => {
    sweep = await connectRedis(requireRedisUrl());
  });
  afterAll(async () => {
    for (const p of prefixes) await deletePrefix(sweep, p);
    for (const c of clients) c.disconnect();
    sweep.disconnect();
  });

  it("exactly once in order or reported, across drops, resumes anywhere and a killed node", async () => {
    const tally = {
      runs: 0,
      kills: 0,
      resumes: 0,
      delivered: 0,
      clientMessages: 0,
      diedWithNode: 0,
    };
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 22 }), async (steps) => {
        const kp = uniquePrefix("model").replace(/[{}]/g, "");
        prefixes.push(kp);
        const options = resumeOptions({ windowMs: 60_000 });
        const times = NODES.map(() => fakeTime());
        const nodes: TestNode[] = [];
        const links: Redis[] = [];
        for (let i = 0; i < NODES.length; i++) {
          const r = await connectRedis(requireRedisUrl());
          clients.push(r);
          links.push(r);
          nodes.push(new TestNode(r, times[i]!, kp, NODES[i]!, options, LEASE));
        }
        const dead = new Set<number>();
        const live = () => [...NODES.keys()].filter((i) => !dead.has(i));
        const settle = async () => {
          for (const i of live()) await storeSettled(nodes[i]!.store);
        };
        const advance = async (ms: number) => {
          for (let left = ms; left > 0; left -= 250) {
            for (const i of live()) times[i]!.tick(250);
            await new Promise((r) => setTimeout(r, 5));
            await settle();
          }
        };

        // The client's side of the session.
        const pushed = new Map<number, number>(); // data n → the seq it was given
        let nextData = 0;
        const delivered: number[] = []; // server seqs the client delivered, in order
        const deliveredData = new Set<number>();
        const diedWithNode = new Set<number>(); // pushed on a killed node, never recorded
        let clientSent = 0; // client seqs sent
        let serverAcked = 0; // the server's ack the client has seen
        const appIn: Array<{ node: number; seq: number }> = [];
        let kills = 0;

        let host = 0;
        const first = await nodes[0]!.open();
        if (first.kind !== "created") throw new Error(first.kind);
        let token = first.token;
        let session: StoredSession<Data, Auth> | undefined = first.session;
        let owner: { nodeId: string; connectionId: string } | undefined = first.owner;
        session.tokenProven();

        /** What a connection writes: frames up to recordedOut, while its node still holds the session. */
        const pump = () => {
          const s = session;
          if (s === undefined || owner === undefined || s.state !== "attached") return;
          if (s.owner?.connectionId !== owner.connectionId) return;
          s.unacked.replay((text, seq) => {
            if (seq > s.recordedOut) return;
            const last = delivered.at(-1) ?? 0;
            if (seq <= last) return; // a duplicate: the client drops it
            expect(seq).toBe(last + 1);
            const n = (JSON.parse(text) as { data: { n: number } }).data.n;
            expect(pushed.get(n), `data ${n} went out as seq ${seq}`).toBe(seq);
            delivered.push(seq);
            deliveredData.add(n);
          });
          serverAcked = Math.max(serverAcked, s.recordedIn);
        };

        for (const st of steps) {
          if (st.kind === "serverSend" && session !== undefined) {
            for (let k = 0; k < st.n; k++) {
              const seq = session.unacked.nextSeq;
              const data = nextData++;
              if (
                session.unacked.push(
                  { n: data },
                  JSON.stringify({ type: "message", seq, data: { n: data } }),
                ) !== "ok"
              )
                break;
              pushed.set(data, seq);
              session.sent(seq);
            }
          } else if (
            st.kind === "clientSend" &&
            session !== undefined &&
            owner !== undefined &&
            session.state === "attached"
          ) {
            for (let k = 0; k < st.n; k++) {
              clientSent++;
              // The host's application gets it (receivedSeq advanced first, as a connection does).
              if (clientSent === session.receivedSeq + 1) {
                session.receivedSeq = clientSent;
                session.received(clientSent);
                appIn.push({ node: host, seq: clientSent });
              }
            }
          } else if (
            st.kind === "clientAck" &&
            session !== undefined &&
            session.state === "attached"
          ) {
            const upTo = (delivered.at(-1) ?? 0) - st.lag;
            if (upTo > session.unacked.ackedSeq) {
              session.unacked.ack(upTo);
              session.acked(upTo);
            }
          } else if (
            st.kind === "drop" &&
            session !== undefined &&
            owner !== undefined &&
            session.state === "attached"
          ) {
            await nodes[host]!.store.detach(session, owner);
            owner = undefined;
          } else if (st.kind === "resume") {
            const target = live()[st.on % live().length]!;
            const r = await nodes[target]!.open(token);
            expect(r.kind, `resume on ${NODES[target]}`).toBe("resumed");
            if (r.kind !== "resumed") return;
            host = target;
            session = r.session;
            owner = r.owner;
            token = r.token;
            session.tokenProven();
            // The client resends what the server did not acknowledge; the new host delivers what is new.
            serverAcked = session.receivedSeq;
            for (let seq = serverAcked + 1; seq <= clientSent; seq++) {
              session.receivedSeq = seq;
              session.received(seq);
              appIn.push({ node: host, seq });
            }
          } else if (st.kind === "kill" && live().length > 1) {
            // The host stops dead (its clock frozen, its link cut in this same
            // turn, so what it just accepted is never recorded); a survivor
            // adopts at the lease's end.
            const victim = session;
            if (victim !== undefined && victim.state === "attached") {
              for (let k = 0; k < st.inFlight; k++) {
                const seq = victim.unacked.nextSeq;
                const data = nextData++;
                victim.unacked.push(
                  { n: data },
                  JSON.stringify({ type: "message", seq, data: { n: data } }),
                );
                pushed.set(data, seq);
                victim.sent(seq);
                clientSent++;
                victim.receivedSeq = clientSent;
                victim.received(clientSent);
                appIn.push({ node: host, seq: clientSent });
              }
            }
            if (victim !== undefined) {
              for (const [n, seq] of pushed)
                if (seq > victim.recordedOut && !deliveredData.has(n)) diedWithNode.add(n);
            }
            links[host]!.disconnect(); // nothing more leaves it
            dead.add(host);
            kills++;
            session = undefined;
            owner = undefined;
            await advance(LEASE.nodeTtlMs + 2 * LEASE.nodeHeartbeatMs);
            const target = live()[0]!;
            const r = await nodes[target]!.open(token);
            expect(r.kind, "resume after the kill").toBe("resumed");
            if (r.kind !== "resumed") return;
            host = target;
            session = r.session;
            owner = r.owner;
            token = r.token;
            session.tokenProven();
            serverAcked = session.receivedSeq;
            for (let seq = serverAcked + 1; seq <= clientSent; seq++) {
              session.receivedSeq = seq;
              session.received(seq);
              appIn.push({ node: host, seq });
            }
          }
          await settle();
          pump();
        }

        // End: the client closes; its session ends, reported once with what it did not acknowledge.
        if (session === undefined || owner === undefined || session.state !== "attached") {
          const target = live()[0]!;
          const r = await nodes[target]!.open(token);
          if (r.kind !== "resumed") throw new Error(`final resume: ${r.kind}`);
          host = target;
          session = r.session;
          owner = r.owner;
          await settle();
          pump();
        }
        await settle();
        pump();
        expect(await nodes[host]!.store.end(session, "client_closed", owner)).toBe(true);
        await settle();

        const ends = live().flatMap((i) => nodes[i]!.events.ends);
        expect(ends).toHaveLength(1);
        const dataOf = (m: { data: Data }) => m.data.n;
        const atEnd = new Set(ends[0]!.undelivered.map(dataOf));
        const neverWritten = new Set(
          live().flatMap((i) => [
            ...nodes[i]!.events.moved.flatMap((m) => m.unrecorded.map(dataOf)),
            ...nodes[i]!.events.replaced.flatMap((m) => m.unrecorded.map(dataOf)),
          ]),
        );
        // Outbound: each message delivered (in order, once: checked in `pump`), or
        // reported (at the end, or by a node that lost it unrecorded), or gone
        // with a killed node's process; never both delivered and "never written".
        for (const n of pushed.keys()) {
          const fates = [
            deliveredData.has(n) || atEnd.has(n),
            neverWritten.has(n),
            diedWithNode.has(n),
          ];
          expect(fates.filter(Boolean).length, `server message ${n}: ${fates}`).toBe(1);
        }
        // No store found Redis's record behind its own, nor lost its lease (no Redis fault here).
        for (const i of live()) {
          expect(nodes[i]!.events.errors.filter((c) => c !== "session_store_redis_write")).toEqual(
            [],
          );
        }
        // Inbound: every client message reached an application; in order; repeated only after a kill.
        const seqs = appIn.map((e) => e.seq);
        for (let seq = 1; seq <= clientSent; seq++) expect(seqs).toContain(seq);
        if (kills === 0) expect(new Set(seqs).size).toBe(seqs.length);
        const byNode = new Map<number, number[]>();
        for (const e of appIn) byNode.set(e.node, [...(byNode.get(e.node) ?? []), e.seq]);
        for (const list of byNode.values()) {
          for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThan(list[i - 1]!);
        }

        for (const i of live()) await nodes[i]!.store.shutdown();
        tally.runs++;
        tally.kills += kills;
        tally.resumes += steps.filter((x) => x.kind === "resume").length + kills;
        tally.delivered += delivered.length;
        tally.clientMessages += clientSent;
        tally.diedWithNode += diedWithNode.size;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.info(`resume model: ${JSON.stringify(tally)}`);
    expect(tally.kills).toBeGreaterThan(0);
  }, 120_000);
});

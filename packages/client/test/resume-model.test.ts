// A model check of the client's side of resumption: random interleavings of
// sends, partial reads by the server, acks, drops, resumes and refused
// resumes, against a fake server that applies the contract's receive rule.
// Every message `send` accepted must reach the server once, in order, or be
// reported in `undelivered`; never neither, never twice, never one the
// server acked. Without a refused resume, nothing may be reported at all.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { microtask, setup } from "./support/fakes.js";

type Op =
  | { op: "send"; count: number }
  | { op: "read"; frames: number }
  | { op: "ack" }
  | { op: "drop" }
  | { op: "welcome"; answer: "resume" | "fail" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("send" as const), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant("read" as const), frames: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant("ack" as const) }),
  fc.record({ op: fc.constant("drop" as const) }),
  fc.record({
    op: fc.constant("welcome" as const),
    answer: fc.constantFrom("resume" as const, "resume" as const, "fail" as const),
  }),
);

async function run(ops: Op[], maxMessages: number) {
  const t = setup({ outbox: { maxUnackedMessages: maxMessages } });
  const undelivered: unknown[] = [];
  /** Refused by `send` (it returned false): reported on `undelivered` as `overflow`, never accepted. */
  const refused: unknown[] = [];
  t.client.on("undelivered", ({ reason, messages }) =>
    (reason === "overflow" ? refused : undelivered).push(...messages),
  );
  t.client.connect();
  await microtask();
  t.socket.welcomeResumable("t0");
  let next = 0;
  let tokens = 0;
  let sessions = 1;
  let failed = false;
  const accepted: number[] = [];
  /** The server: what its app got, the last seq of its current session, what it acked. */
  const delivered: number[] = [];
  const acked = new Set<number>();
  let onSession: number[] = [];
  let lastIn = 0;
  let read = 0;
  /** The current socket got its welcome (sends go out; the server reads and acks). */
  let up = true;

  const readFrames = (n: number) => {
    const frames = t.socket.frames;
    for (; read < frames.length && n > 0; read++, n--) {
      const f = frames[read]!;
      if (f.type !== "message") continue;
      const seq = f.seq as number;
      if (seq > lastIn + 1) throw new Error(`gap: seq ${seq} after ${lastIn}`);
      if (seq <= lastIn) continue; // a replay of one it has
      lastIn = seq;
      delivered.push(f.data as number);
      onSession.push(f.data as number);
    }
  };

  for (const step of ops) {
    switch (step.op) {
      case "send":
        for (let k = 0; k < step.count; k++) {
          const data = next++;
          if (t.client.send(data)) accepted.push(data);
        }
        break;
      case "read":
        if (up) readFrames(step.frames);
        break;
      case "ack":
        if (!up) break;
        t.socket.receive({ type: "ack", seq: lastIn });
        for (const data of onSession) acked.add(data);
        break;
      case "drop":
        if (!up) break;
        // Unread frames die with the link; sends queue until the next welcome.
        t.socket.drop();
        await t.fc.tickAsync(t.events.reconnecting.at(-1)!.delayMs);
        read = 0;
        up = false;
        break;
      case "welcome": {
        if (up) break;
        up = true;
        const token = `t${++tokens}`;
        if (step.answer === "resume") {
          t.socket.welcomeResumable(token, {
            sessionId: `s_${sessions}`,
            resumed: { ack: lastIn },
          });
        } else {
          failed = true;
          t.socket.welcomeResumable(token, {
            sessionId: `s_${++sessions}`,
            resumeFailed: "expired",
          });
          lastIn = 0;
          onSession = [];
        }
        break;
      }
    }
  }
  // Heal: the server welcomes (resumes), reads everything and acks it.
  if (!up)
    t.socket.welcomeResumable("last", { sessionId: `s_${sessions}`, resumed: { ack: lastIn } });
  readFrames(Number.POSITIVE_INFINITY);
  t.socket.receive({ type: "ack", seq: lastIn });
  for (const data of onSession) acked.add(data);
  t.client.close();
  return { accepted, delivered, undelivered, refused, acked, failed, stats: t.client.stats };
}

describe("the client's resume, model-checked", () => {
  it("delivers every accepted message once and in order, or reports it; never both unless a resume was refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        async (ops, maxMessages) => {
          const r = await run(ops, maxMessages);
          // Once, in order: data are sent in increasing order.
          for (let i = 1; i < r.delivered.length; i++) {
            expect(r.delivered[i]).toBeGreaterThan(r.delivered[i - 1]!);
          }
          expect(new Set(r.undelivered).size).toBe(r.undelivered.length);
          for (const data of r.accepted) {
            expect(r.delivered.includes(data) || r.undelivered.includes(data)).toBe(true);
          }
          for (const data of r.refused) expect(r.accepted).not.toContain(data);
          for (const data of r.undelivered) {
            expect(r.accepted).toContain(data);
            expect(r.acked.has(data as number)).toBe(false);
          }
          if (!r.failed) {
            expect(r.undelivered).toEqual([]);
            expect(r.delivered).toEqual(r.accepted);
          }
          expect(r.stats).toMatchObject({ queued: 0, unacked: 0 });
        },
      ),
      { numRuns: 300 },
    );
  });
});

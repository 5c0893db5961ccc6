// The resume contract as a property (issue 13 point 6): for random
// interleavings of sends both ways, connection drops, half-open links (held
// or discarded), takeovers and the reconnects they cause, every application
// message one side accepted is delivered to the other side's application
// exactly once and in order, or reported to its sender as undelivered:
// never neither, and never both while the session lives. On the in-memory
// harness and its fake clock, so every run is exact and fast; a fixed seed
// and a modest number of runs keep CI deterministic (set HL_MODEL_RUNS for
// a longer hunt, HL_MODEL_SEED to replay a failure).
import { createHarness, type Harness, type HarnessClient } from "@heartline/testing";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Ledger,
  ledger,
  quickReconnect,
  recordClient,
  recordServer,
  verdict,
} from "./support/resume-ledger.js";

const X = 1000;
const WINDOW_MS = 60_000;
const SEED = Number(process.env.HL_MODEL_SEED ?? 1313);
const RUNS = Number(process.env.HL_MODEL_RUNS ?? 40);

type Step =
  | { kind: "clientSend"; n: number }
  | { kind: "serverSend"; n: number }
  | { kind: "advance"; ms: number }
  | { kind: "abort" }
  | { kind: "blackhole"; mode: "hold" | "discard" }
  | { kind: "heal" }
  /** Discarding blackhole until the client gives up, healed at once: the server may still hold the old connection. */
  | { kind: "takeover" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("clientSend"), n: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("serverSend"), n: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("advance"), ms: fc.integer({ min: 0, max: 1500 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "abort" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("blackhole"),
      mode: fc.constantFrom("hold" as const, "discard" as const),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "heal" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "takeover" as const }) },
) as fc.Arbitrary<Step>;

let h: Harness<string, string> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface World {
  h: Harness<string, string>;
  c: HarnessClient<string, string>;
  book: Ledger;
  send: (id: string) => boolean;
  sessionEnds: Array<{ sessionId: string; reason: string; undelivered: readonly string[] }>;
  sessionIds: Set<string>;
  /** The last message number used (ids are unique across every phase of a run). */
  n: number;
}

async function world(): Promise<World> {
  const book = ledger();
  const sessionEnds: World["sessionEnds"] = [];
  h = await createHarness<string, string>({
    server: {
      intervalMs: X,
      resume: { windowMs: WINDOW_MS },
      on: recordServer(book, sessionEnds),
    },
  });
  const c = await h.client<string, string>({
    ...quickReconnect,
    outbox: { maxUnackedMessages: 200 },
  });
  const { send } = recordClient(c, book);
  const sessionIds = new Set<string>();
  c.on("open", ({ sessionId }) => void sessionIds.add(sessionId));
  await h.waitFor.clientState(c, "open", { within: 0 });
  return { h, c, book, send, sessionEnds, sessionIds, n: 0 };
}

/** The app on the server sends to the session's live connection only (a detached one refuses). */
function serverSend(w: World, id: string): void {
  const sessionId = w.c.sessionId;
  const live = [...w.h.server.connections()].filter((conn) => conn.sessionId === sessionId);
  const ok = live.length > 0 && live.at(-1)!.send(id);
  (ok ? w.book.toClient.accepted : w.book.toClient.refused).push(id);
}

async function run(w: World, steps: readonly Step[]): Promise<void> {
  for (const s of steps) {
    switch (s.kind) {
      case "clientSend":
        for (let i = 0; i < s.n; i++) w.send(`c${++w.n}`);
        break;
      case "serverSend":
        for (let i = 0; i < s.n; i++) serverSend(w, `s${++w.n}`);
        break;
      case "advance":
        await w.h.advance(s.ms);
        break;
      case "abort":
        w.c.abort();
        await w.h.advance(0);
        break;
      case "blackhole":
        w.c.blackhole({ whileBlackholed: s.mode });
        break;
      case "heal":
        w.c.heal();
        await w.h.advance(0);
        break;
      case "takeover": {
        w.c.blackhole({ whileBlackholed: "discard" });
        const since = w.h.now;
        await w.h.waitFor.clientEvent(w.c, "disconnect", undefined, { within: 4 * X, since });
        w.c.heal();
        await w.h.advance(0);
        break;
      }
    }
  }
  // Quiescence: the link works, the client is back, and one more interval
  // lets every receiver acknowledge what it got.
  w.c.heal();
  await w.h.waitFor.clientState(w.c, "open", { within: 10 * X });
  await w.h.advance(3 * X);
}

describe("resume model (in memory, fake clock)", () => {
  it("every accepted message: delivered once, in order; nothing reported while the session lives", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        await h?.close();
        const w = await world();
        await run(w, steps);
        for (const d of [w.book.toServer, w.book.toClient]) {
          expect(verdict(d)).toEqual({ duplicated: [], lost: [], both: [], disordered: [] });
          // The session lived throughout: nothing may have been reported…
          expect(d.reported).toEqual([]);
          // …and so everything accepted arrived, exactly in send order.
          expect(d.delivered).toEqual(d.accepted);
        }
        if (process.env.HL_MODEL_TRACE && w.sessionIds.size !== 1) w.h.timeline.print();
        expect(w.sessionIds.size).toBe(1);
        expect(w.sessionEnds).toEqual([]);

        // A deliberate end after quiescence: the session ends once, with nothing undelivered.
        w.c.close();
        await w.h.advance(X);
        expect(w.sessionEnds).toEqual([
          expect.objectContaining({ sessionId: [...w.sessionIds][0], undelivered: [] }),
        ]);
        expect(w.book.toServer.reported).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 120_000);

  it("with an outage past the window: what is not delivered is reported; 'both' only for the expired session's unacknowledged tail", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 15 }),
        fc.array(step, { maxLength: 15 }),
        async (before, after) => {
          await h?.close();
          const w = await world();
          await run(w, before);
          const firstSession = w.c.sessionId;
          const acceptedBefore = new Set([
            ...w.book.toServer.accepted,
            ...w.book.toClient.accepted,
          ]);
          // Messages in flight both ways, then an outage longer than the window.
          w.send("c-last");
          serverSend(w, "s-last");
          w.c.blackhole({ whileBlackholed: "discard" });
          await w.h.advance(WINDOW_MS + 3 * X);
          w.c.heal();
          const failed = await w.h.waitFor.clientEvent(w.c, "undelivered", undefined, {
            since: 0,
            within: 10 * X,
          });
          expect(failed.payload).toMatchObject({
            reason: "resume_failed",
            resumeFailed: "expired",
          });
          await run(w, after);

          expect(w.sessionEnds.filter((e) => e.sessionId === firstSession)).toEqual([
            expect.objectContaining({ reason: "expired" }),
          ]);
          for (const d of [w.book.toServer, w.book.toClient]) {
            const v = verdict(d);
            expect({ ...v, both: [] }).toEqual({
              duplicated: [],
              lost: [],
              both: [],
              disordered: [],
            });
            // Delivered and reported: only an expired session's messages
            // whose acknowledgement never made it (the contract counts them undelivered).
            for (const id of v.both)
              expect(acceptedBefore.has(id) || id.endsWith("-last")).toBe(true);
            // Nothing sent after the outage is ever reported.
            for (const id of d.reported)
              expect(acceptedBefore.has(id) || id.endsWith("-last")).toBe(true);
          }
          // The last message each way was never delivered (the link died with
          // it, discarded): it is reported, with its data.
          expect(w.book.toServer.reported).toContain("c-last");
          expect(w.book.toClient.reported).toContain("s-last");
        },
      ),
      { seed: SEED, numRuns: Math.max(5, Math.floor(RUNS / 4)), endOnFailure: true },
    );
  }, 120_000);
});

// The session-store contract (issue 25): what the server core relies on
// from ANY `SessionStore`, as one suite that runs against each store. It
// only uses the seam (`store-api.ts`): results, the hooks the store calls
// and the sessions it hands out; never a store's private state. Time is a
// fake clock given to the store through its hooks (a shared store runs its
// windows on it too), each boundary exact: alive at T−1 ms, gone at T.
//
// Use: `describeSessionStoreContract("memory", async () => ({ store, cleanup }))`.
// A store that works asynchronously (Redis) gives `settle` to wait for
// its I/O after the clock moved.
import { type Clock, clockOf, ResumeFailure } from "@heartline/protocol";
import {
  type OpenResult,
  type ResolvedResumeOptions,
  resumeDefaults,
  type SessionOwner,
  type SessionStore,
  type StoredSession,
  type StoredSessionEnd,
  sameClientDefault,
  type UnackedMessage,
} from "@heartline/server";
import FakeTimers from "@sinonjs/fake-timers";
import { afterEach, describe, expect, it } from "vitest";

/** What `make` returns: a fresh, empty store not started yet (the suite starts it). */
export interface StoreUnderTest {
  readonly store: SessionStore<string, unknown>;
  /**
   * Waits until the store's pending work is done (a shared store's
   * flush, a script answered). Default: a few microtask turns.
   */
  settle?(): Promise<void>;
  /** Stops what `make` started (connections, keys). */
  cleanup(): Promise<void>;
}

/** What `make` is given: the clock the store will run on (also passed in `start`'s hooks). */
export interface ContractContext {
  readonly clock: Clock;
}

/** The window every case runs with. */
export const CONTRACT_WINDOW_MS = 10_000;

const BASE: ResolvedResumeOptions = Object.freeze({
  windowMs: CONTRACT_WINDOW_MS,
  maxUnackedMessages: resumeDefaults.maxUnackedMessages,
  maxUnackedBytes: resumeDefaults.maxUnackedBytes,
  maxUnackedBytesTotal: resumeDefaults.maxUnackedBytesTotal,
  maxSessions: resumeDefaults.maxSessions,
  maxWaitingPerAddress: resumeDefaults.maxWaitingPerAddress,
  maxWaitingPerClient: resumeDefaults.maxWaitingPerClient,
  clientOf: undefined,
  sameClient: sameClientDefault,
});

type Session = StoredSession<string, unknown>;
type Result = OpenResult<string, unknown>;

/**
 * Runs the contract against the store `make` builds, once per case (each
 * case gets a fresh store and clock). `name` names the describe block.
 */
export function describeSessionStoreContract(
  name: string,
  make: (context: ContractContext) => Promise<StoreUnderTest>,
): void {
  describe(`session store contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    afterEach(async () => {
      const subject = current;
      current = undefined;
      if (subject !== undefined) {
        await subject.store.shutdown();
        await subject.cleanup();
      }
    });

    /** A started store with recorded hooks, on a fake clock. */
    async function setup(options: Partial<ResolvedResumeOptions> = {}) {
      const fc = FakeTimers.createClock(1_000_000);
      const clock = clockOf(fc);
      const subject = await make({ clock });
      current = subject;
      const { store } = subject;
      const ends: StoredSessionEnd<string, unknown>[] = [];
      const replaced: { owner: SessionOwner; unrecorded: UnackedMessage<string>[] }[] = [];
      const moved: string[] = [];
      const adopted: string[] = [];
      store.start({
        onEnd: (end) => ends.push(end),
        onReplaced: (owner, unrecorded) => replaced.push({ owner, unrecorded: [...unrecorded] }),
        onMoved: (sessionId) => moved.push(sessionId),
        onAdopted: (session) => adopted.push(session.sessionId),
        clock,
        options: { ...BASE, ...options },
      });
      const settle = async (): Promise<void> => {
        if (subject.settle !== undefined) await subject.settle();
        else for (let i = 0; i < 5; i++) await Promise.resolve();
      };
      let ids = 0;
      const owner = (connectionId: string): SessionOwner => ({
        nodeId: store.nodeId,
        connectionId,
      });
      const open = async (
        token: string | undefined,
        by: SessionOwner,
        auth: unknown = undefined,
        address: string | undefined = undefined,
      ): Promise<Result> => store.open(token, auth, by, address, () => `s${++ids}`);
      /** A new session held by `by`. */
      const create = async (by: SessionOwner, auth?: unknown, address?: string) => {
        const result = await open(undefined, by, auth, address);
        if (result.kind !== "created")
          throw new Error(`expected a new session, got ${result.kind}`);
        return result;
      };
      /** Opens `token`; expects a resume. */
      const resume = async (token: string, by: SessionOwner, auth?: unknown) => {
        const result = await open(token, by, auth);
        if (result.kind !== "resumed") {
          throw new Error(
            `expected a resume, got ${result.kind} ${JSON.stringify(failureOf(result))}`,
          );
        }
        return result;
      };
      /** Opens `token`; expects a refused resume, the session made instead given back. Returns the failure. */
      const refused = async (token: string | undefined, by: SessionOwner, auth?: unknown) => {
        const result = await open(token, by, auth);
        if (result.kind === "resumed") throw new Error("expected the resume to be refused");
        if (result.kind === "created") await store.release(result.session, by);
        return failureOf(result);
      };
      /** Keeps message `data` on the session (as a connection's send does) and journals it. */
      const push = (session: Session, data: string): number => {
        const seq = session.unacked.nextSeq;
        expect(session.unacked.push(data, JSON.stringify({ type: "message", seq, data }))).toBe(
          "ok",
        );
        session.sent(seq);
        return seq;
      };
      const tick = async (ms: number): Promise<void> => {
        fc.tick(ms);
        await settle();
      };
      return {
        fc,
        store,
        ends,
        replaced,
        moved,
        adopted,
        settle,
        owner,
        open,
        create,
        resume,
        refused,
        push,
        tick,
      };
    }

    const W = CONTRACT_WINDOW_MS;

    it("creates a session held by its owner, named by newSessionId, with a token", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a, { user: 1 });
      expect(created.failure).toBeUndefined();
      expect(typeof created.token).toBe("string");
      expect(created.session).toMatchObject({
        sessionId: "s1",
        auth: { user: 1 },
        state: "attached",
        receivedSeq: 0,
      });
      expect(created.session.owner).toEqual(a);
      expect(s.store.hosted("s1")).toBe(created.session);
      expect(s.store.counts()).toMatchObject({ sessions: 1, detached: 0 });
    });

    it("resumes at windowMs − 1 after a detach: the gap, a new token, no one replaced", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      expect(await s.store.detach(created.session, a)).toBe(true);
      expect(created.session.state).toBe("detached");
      expect(s.store.counts()).toMatchObject({ sessions: 1, detached: 1 });
      expect([...s.store.waiting()].map((w) => w.sessionId)).toEqual(["s1"]);
      await s.tick(W - 1);
      const b = s.owner("b");
      const resumed = await s.resume(created.token, b);
      expect(resumed.session.sessionId).toBe("s1");
      expect(resumed.session.owner).toEqual(b);
      expect(resumed.session.state).toBe("attached");
      expect(resumed.gapMs).toBe(W - 1);
      expect(resumed.replaced).toBeUndefined();
      expect(resumed.token).not.toBe(created.token);
      expect([...s.store.waiting()]).toEqual([]);
      expect(s.ends).toEqual([]);
    });

    it("expires at exactly windowMs: reported once with the undelivered data, then `expired`", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      s.push(created.session, "x");
      s.push(created.session, "y");
      await s.settle();
      await s.store.detach(created.session, a);
      const detachedAt = s.fc.now;
      await s.tick(W - 1);
      expect(s.ends).toEqual([]);
      await s.tick(1);
      expect(s.ends).toEqual([
        {
          sessionId: "s1",
          reason: "expired",
          auth: undefined,
          undelivered: [
            { seq: 1, data: "x" },
            { seq: 2, data: "y" },
          ],
          at: detachedAt + W,
        },
      ]);
      expect(await s.refused(created.token, s.owner("b"))).toBe(ResumeFailure.Expired);
      await s.tick(W);
      expect(s.ends).toHaveLength(1);
      expect(s.store.counts()).toMatchObject({ sessions: 0, detached: 0 });
    });

    it("a failed resume creates a new session and says why (`welcome.resumeFailed`)", async () => {
      const s = await setup();
      const result = await s.open("nope.nope", s.owner("a"));
      expect(result).toMatchObject({ kind: "created", failure: ResumeFailure.Unknown });
    });

    it("answers unknown for a wrong secret or a malformed token, leaving the session untouched", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      await s.store.detach(created.session, a);
      const [id, secret] = created.token.split(".") as [string, string];
      const wrong = `${id}.${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
      for (const token of [wrong, `${id}.`, `${id}.${secret}x`, "nope", "", `x${created.token}`]) {
        expect(await s.refused(token, s.owner("thief"))).toBe(ResumeFailure.Unknown);
      }
      expect(created.session.state).toBe("detached");
      await s.resume(created.token, s.owner("b"));
    });

    it("refuses another client's resume (mismatch) without spending the token", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a, { userId: 1 });
      await s.store.detach(created.session, a);
      expect(await s.refused(created.token, s.owner("thief"), { userId: 2 })).toBe(
        ResumeFailure.Mismatch,
      );
      expect(created.session.state).toBe("detached");
      await s.resume(created.token, s.owner("b"), { userId: 1 });
    });

    it("an overflow ends the session with what it held; the next resume hears overflow until windowMs", async () => {
      const s = await setup({ maxUnackedMessages: 1 });
      const a = s.owner("a");
      const created = await s.create(a);
      s.push(created.session, "x");
      expect(created.session.unacked.push("y", "{}")).toBe("full");
      await s.settle();
      expect(await s.store.end(created.session, "overflow")).toBe(true);
      expect(s.ends).toMatchObject([{ reason: "overflow", undelivered: [{ seq: 1, data: "x" }] }]);
      await s.tick(W - 1);
      expect(await s.refused(created.token, s.owner("b"))).toBe(ResumeFailure.Overflow);
      await s.tick(1);
      expect(await s.refused(created.token, s.owner("c"))).toBe(ResumeFailure.Unknown);
      expect(s.ends).toHaveLength(1);
    });

    it("rotates the token; the presented one works until the new connection proves alive", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      await s.store.detach(created.session, a);
      const b = s.owner("b");
      const first = await s.resume(created.token, b);
      // b's welcome never reached the client: it still holds created.token.
      const c = s.owner("c");
      const again = await s.resume(created.token, c);
      expect(again.replaced).toEqual(b);
      expect(again.gapMs).toBe(0);
      // The token b was sent and never proved is superseded.
      expect(await s.refused(first.token, s.owner("x"))).toBe(ResumeFailure.Unknown);
      again.session.tokenProven();
      await s.settle();
      expect(await s.refused(created.token, s.owner("y"))).toBe(ResumeFailure.Unknown);
      const d = s.owner("d");
      expect((await s.resume(again.token, d)).replaced).toEqual(c);
      expect(s.ends).toEqual([]);
    });

    it("takeover of an attached session: the old owner's detach and end change nothing", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      const b = s.owner("b");
      const taken = await s.resume(created.token, b);
      expect(taken.replaced).toEqual(a);
      expect(taken.gapMs).toBe(0);
      const session = taken.session;
      expect(await s.store.detach(session, a)).toBe(false);
      expect(await s.store.end(session, "client_closed", a)).toBe(false);
      expect(session.state).toBe("attached");
      expect(session.owner).toEqual(b);
      expect(s.ends).toEqual([]);
      // Owners are compared by value: an equal object is the same owner.
      expect(await s.store.detach(session, { nodeId: b.nodeId, connectionId: "b" })).toBe(true);
    });

    it("ends deliberately once, with the undelivered messages in order, and leaves no tombstone", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      s.push(created.session, "x");
      s.push(created.session, "y");
      s.push(created.session, "z");
      await s.settle();
      created.session.unacked.ack(1);
      created.session.acked(1);
      await s.settle();
      expect(await s.store.end(created.session, "client_closed", a)).toBe(true);
      expect(await s.store.end(created.session, "client_closed")).toBe(false);
      expect(await s.store.detach(created.session, a)).toBe(false);
      expect(created.session.state).toBe("ended");
      expect(s.ends).toEqual([
        {
          sessionId: "s1",
          reason: "client_closed",
          auth: undefined,
          undelivered: [
            { seq: 2, data: "y" },
            { seq: 3, data: "z" },
          ],
          at: s.fc.now,
        },
      ]);
      expect(await s.refused(created.token, s.owner("b"))).toBe(ResumeFailure.Unknown);
      expect(s.store.hosted("s1")).toBeUndefined();
    });

    it("release: a new session is dropped unreported; a resumed one waits again with the presented token", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      await s.store.release(created.session, a);
      expect(s.ends).toEqual([]);
      expect(s.store.counts()).toMatchObject({ sessions: 0 });
      expect(await s.refused(created.token, s.owner("b"))).toBe(ResumeFailure.Unknown);

      const kept = await s.create(s.owner("c"));
      await s.store.detach(kept.session, s.owner("c"));
      const d = s.owner("d");
      const resumed = await s.resume(kept.token, d);
      await s.store.release(resumed.session, d);
      expect(resumed.session.state).toBe("detached");
      expect(s.ends).toEqual([]);
      // Its window restarted at the release.
      await s.tick(W - 1);
      await s.resume(kept.token, s.owner("e"));
      expect(s.ends).toEqual([]);
    });

    it("release by an owner that no longer holds the session does nothing", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      const b = s.owner("b");
      await s.resume(created.token, b);
      await s.store.release(created.session, a);
      expect(created.session.state).toBe("attached");
      expect(created.session.owner).toEqual(b);
    });

    it("holds at most maxSessions: a full table of live sessions answers plain; a waiting one is evicted", async () => {
      const s = await setup({ maxSessions: 2 });
      const a = s.owner("a");
      const first = await s.create(a, { user: 1 });
      await s.create(s.owner("b"), { user: 2 });
      expect(await s.open(undefined, s.owner("c"))).toMatchObject({ kind: "plain" });
      expect(s.store.counts().refused).toBe(1);
      await s.store.detach(first.session, a);
      const third = await s.open(undefined, s.owner("d"));
      expect(third.kind).toBe("created");
      expect(s.ends).toMatchObject([{ sessionId: "s1", reason: "evicted" }]);
      expect(s.store.counts()).toMatchObject({ sessions: 2, evicted: 1 });
      expect(await s.refused(first.token, s.owner("e"), { user: 1 })).toBe(ResumeFailure.Unknown);
    });

    it("bounds the sessions waiting per address: the oldest waiter gives way", async () => {
      const s = await setup({ maxWaitingPerAddress: 1 });
      const a = s.owner("a");
      const b = s.owner("b");
      const one = await s.create(a, undefined, "10.0.0.1");
      const two = await s.create(b, undefined, "10.0.0.1");
      await s.store.detach(one.session, a);
      await s.tick(1);
      await s.store.detach(two.session, b);
      await s.settle();
      expect(s.ends).toMatchObject([{ sessionId: "s1", reason: "evicted" }]);
      expect([...s.store.waiting()].map((w) => w.sessionId)).toEqual(["s2"]);
    });

    it("journal: what is received, sent and acked is recorded, and a resume gets it back", async () => {
      const s = await setup();
      const a = s.owner("a");
      const created = await s.create(a);
      const session = created.session;
      session.receivedSeq = 1;
      session.received(1);
      session.receivedSeq = 2;
      session.received(2);
      s.push(session, "x");
      s.push(session, "y");
      s.push(session, "z");
      await s.settle();
      // Recorded: an ack may say 2, and frames up to 3 may be written.
      expect(session.recordedIn).toBe(2);
      expect(session.recordedOut).toBe(3);
      session.unacked.ack(1);
      session.acked(1);
      await s.settle();
      await s.store.detach(session, a);
      const resumed = await s.resume(created.token, s.owner("b"));
      expect(resumed.session.receivedSeq).toBe(2);
      expect(resumed.session.recordedIn).toBe(2);
      const replay: [number, string][] = [];
      resumed.session.unacked.replay((text, seq) => replay.push([seq, text]));
      expect(replay.map(([seq]) => seq)).toEqual([2, 3]);
      expect(resumed.session.unacked.nextSeq).toBe(4);
      expect(resumed.session.recordedOut).toBe(3);
    });

    it("keeps the token's secret off the session object", async () => {
      const s = await setup();
      const created = await s.create(s.owner("a"));
      const secret = created.token.split(".")[1]!;
      const seen = new WeakSet<object>();
      const dump = JSON.stringify(created.session, (_key, value) => {
        if (typeof value === "object" && value !== null) {
          if (seen.has(value)) return undefined;
          seen.add(value);
        }
        return value;
      });
      expect(dump).not.toContain(secret);
    });

    it("shutdown: an in-process store ends every session (server_closed) once; a durable one ends none", async () => {
      const s = await setup();
      const a = s.owner("a");
      const live = await s.create(a);
      s.push(live.session, "x");
      const b = s.owner("b");
      const waiting = await s.create(b);
      await s.settle();
      await s.store.detach(waiting.session, b);
      await s.store.shutdown();
      await s.settle();
      if (s.store.durable === true) {
        // Handed on to the survivors: not ended, and not hosted here any more.
        expect(s.ends).toEqual([]);
        expect(s.store.counts()).toMatchObject({ sessions: 0, detached: 0 });
      } else {
        expect(s.ends.map((e) => [e.sessionId, e.reason])).toEqual([
          ["s1", "server_closed"],
          ["s2", "server_closed"],
        ]);
        expect(s.ends[0]!.undelivered).toEqual([{ seq: 1, data: "x" }]);
        expect(s.store.counts()).toMatchObject({ sessions: 0, detached: 0 });
      }
      await s.tick(2 * W);
      expect(s.ends.length).toBeLessThanOrEqual(2);
    });
  });
}

function failureOf(result: Result): ResumeFailure | undefined {
  return result.kind === "created" || result.kind === "plain" ? result.failure : undefined;
}

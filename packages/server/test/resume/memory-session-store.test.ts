// The in-process session store alone, on a fake clock: windows, tombstones,
// takeover, token rules and bounds, each at its exact boundary. (The
// store-agnostic part of this runs for every store in the contract suite,
// tests/support/session-store-contract.ts; this file keeps the in-process
// store's own rules: one timer for every window, the byte total, a
// throwing listener.) `create`/`take` below are `open` in the old shapes.
import { describe, expect, it } from "vitest";
import {
  createMemorySessionStore,
  resolveResumeOptions,
  resumeDefaults,
  type SessionOwner,
  type StoredSession,
  type StoredSessionEnd,
  sameClientDefault,
} from "../../src/core/resume/index.js";
import type { ResumeOptions } from "../../src/core/resume/options.js";
import { fakeClock } from "../helpers.js";

const W = 120_000;

type Conn = SessionOwner;

const NOOP = () => {};

function memoryStore(
  options: ResumeOptions,
  clock: ReturnType<typeof fakeClock>["clock"],
  onEnd: (end: StoredSessionEnd<string, unknown>) => void,
) {
  const store = createMemorySessionStore<string, unknown>();
  store.start({
    onEnd,
    onReplaced: NOOP,
    onMoved: NOOP,
    onAdopted: NOOP,
    clock,
    options: resolveResumeOptions({ windowMs: W, ...options })!,
  });
  return {
    store,
    create(sessionId: string, auth: unknown, owner: Conn, address?: string) {
      const r = store.open(undefined, auth, owner, address, () => sessionId);
      if (r instanceof Promise) throw new Error("the memory store answers at once");
      return r.kind === "created" ? { session: r.session, token: r.token } : undefined;
    },
    take(token: string | undefined, auth: unknown, owner: Conn) {
      if (token === undefined) return { ok: false as const, failure: "unknown" };
      const r = store.open(token, auth, owner, undefined, () => "new");
      if (r instanceof Promise) throw new Error("the memory store answers at once");
      if (r.kind === "resumed") {
        return {
          ok: true as const,
          session: r.session,
          token: r.token,
          replaced: r.replaced,
          gapMs: r.gapMs,
        };
      }
      // A failed resume made a new session in its place: not wanted here.
      if (r.kind === "created") store.release(r.session, owner);
      return { ok: false as const, failure: (r as { failure?: string }).failure };
    },
    detach: (session: StoredSession<string, unknown>, owner: Conn) =>
      store.detach(session, owner) as boolean,
    end: (
      session: StoredSession<string, unknown>,
      reason: "client_closed" | "overflow",
      owner?: Conn,
    ) => store.end(session, reason, owner) as boolean,
    stats: () => store.counts(),
  };
}

function setup(options: ResumeOptions = {}) {
  const { fc: clock, clock: heartlineClock } = fakeClock();
  const ends: StoredSessionEnd<string, unknown>[] = [];
  const store = memoryStore(options, heartlineClock, (end) => ends.push(end));
  const conn = (name: string): Conn => ({ nodeId: "local", connectionId: name });
  return { clock, store, ends, conn, t0: clock.now };
}

describe("createMemorySessionStore", () => {
  it("has frozen defaults, windowMs 120 000", () => {
    expect(Object.isFrozen(resumeDefaults)).toBe(true);
    expect(resumeDefaults.windowMs).toBe(120_000);
    expect(resumeDefaults.ackEveryMessages).toBe(32);
  });

  it("resumes at windowMs − 1 and rotates the token; the old token is spent once the new connection proves alive", () => {
    const { clock, store, conn, ends } = setup();
    const a = conn("a");
    const created = store.create("s1", undefined, a)!;
    expect(store.detach(created.session, a)).toBe(true);
    clock.tick(W - 1);
    const b = conn("b");
    const taken = store.take(created.token, undefined, b);
    expect(taken).toMatchObject({ ok: true, replaced: undefined, gapMs: W - 1 });
    if (!taken.ok) throw new Error("expected a resume");
    expect(taken.session.sessionId).toBe("s1");
    expect(taken.session.owner).toEqual(b);
    expect(taken.token).not.toBe(created.token);
    taken.session.tokenProven();
    expect(store.take(created.token, undefined, conn("c"))).toEqual({
      ok: false,
      failure: "unknown",
    });
    clock.tick(10 * W);
    expect(ends).toEqual([]);
  });

  it("keeps the presented token valid until tokenProven: a takeover of the unproven owner, then unknown", () => {
    const { store, conn, ends } = setup();
    const a = conn("a");
    const created = store.create("s1", undefined, a)!;
    store.detach(created.session, a);
    const b = conn("b");
    const first = store.take(created.token, undefined, b);
    if (!first.ok) throw new Error("expected a resume");
    // b's welcome never reached the client: it still holds created.token.
    const c = conn("c");
    const again = store.take(created.token, undefined, c);
    expect(again).toMatchObject({ ok: true, replaced: b, gapMs: 0 });
    if (!again.ok) throw new Error("expected a resume");
    expect(again.token).not.toBe(first.token);
    // The token b was sent and never proved is superseded: only c's and the presented one work.
    expect(store.take(first.token, undefined, conn("x"))).toEqual({
      ok: false,
      failure: "unknown",
    });
    again.session.tokenProven();
    expect(store.take(created.token, undefined, conn("y"))).toEqual({
      ok: false,
      failure: "unknown",
    });
    expect(store.take(again.token, undefined, conn("d"))).toMatchObject({ ok: true, replaced: c });
    expect(ends).toEqual([]);
  });

  it("the new token works before tokenProven too, and then the older one is gone", () => {
    const { store, conn } = setup();
    const a = conn("a");
    const created = store.create("s1", undefined, a)!;
    store.detach(created.session, a);
    const b = conn("b");
    const first = store.take(created.token, undefined, b);
    if (!first.ok) throw new Error("expected a resume");
    store.detach(first.session, b);
    // The client read b's welcome but b died before its first frame.
    const c = conn("c");
    const second = store.take(first.token, undefined, c);
    expect(second).toMatchObject({ ok: true, replaced: undefined });
    // It presented first.token, so that one is kept; created.token is not.
    expect(store.take(created.token, undefined, conn("x"))).toEqual({
      ok: false,
      failure: "unknown",
    });
    expect(store.take(first.token, undefined, conn("d"))).toMatchObject({ ok: true, replaced: c });
  });

  it("expires at exactly windowMs, reports once with the undelivered data, then tells expired", () => {
    const { clock, store, conn, ends, t0 } = setup();
    const a = conn("a");
    const { session, token } = store.create("s1", undefined, a)!;
    for (const data of ["x", "y"]) {
      session.unacked.push(
        data,
        JSON.stringify({ type: "message", seq: session.unacked.nextSeq, data }),
      );
    }
    session.unacked.ack(0);
    store.detach(session, a);
    clock.tick(W - 1);
    expect(ends).toEqual([]);
    clock.tick(1);
    expect(ends).toEqual([
      {
        sessionId: "s1",
        reason: "expired",
        undelivered: [
          { seq: 1, data: "x" },
          { seq: 2, data: "y" },
        ],
        at: t0 + W,
      },
    ]);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "expired" });
    expect(store.stats()).toEqual({ sessions: 0, detached: 0, evicted: 0, refused: 0, adopted: 0 });
  });

  it("expires a resume at windowMs even before its timer has run", () => {
    const { clock, store, conn, ends } = setup();
    const a = conn("a");
    const { session, token } = store.create("s1", undefined, a)!;
    store.detach(session, a);
    // Jump the clock without running timers: the take itself sees the deadline.
    clock.setSystemTime(clock.now + W);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "expired" });
    expect(ends.map((e) => e.reason)).toEqual(["expired"]);
    clock.tick(W);
    expect(ends).toHaveLength(1);
  });

  it("tells expired from unknown for windowMs after the window, then forgets everything", () => {
    const { clock, store, conn } = setup();
    const a = conn("a");
    const { session, token } = store.create("s1", undefined, a)!;
    store.detach(session, a);
    clock.tick(W); // window passed: tombstone until 2W
    clock.tick(W - 1);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "expired" });
    clock.tick(1);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "unknown" });
    expect(store.stats()).toEqual({ sessions: 0, detached: 0, evicted: 0, refused: 0, adopted: 0 });
    expect(clock.countTimers()).toBe(0);
  });

  it("takes over a still-attached session: names the connection to close with 4409", () => {
    const { store, conn, ends } = setup();
    const a = conn("a");
    const b = conn("b");
    const { session, token } = store.create("s1", undefined, a)!;
    const taken = store.take(token, undefined, b);
    expect(taken).toMatchObject({ ok: true, replaced: a, gapMs: 0 });
    // The replaced connection's end changes nothing: the session moved on.
    expect(store.detach(session, a)).toBe(false);
    expect(store.end(session, "client_closed", a)).toBe(false);
    expect(session.state).toBe("attached");
    expect(ends).toEqual([]);
  });

  it("refuses another client's resume (mismatch) and leaves the session to its owner", () => {
    const { store, conn } = setup();
    const a = conn("a");
    const { session, token } = store.create("s1", { userId: 1 }, a)!;
    store.detach(session, a);
    expect(store.take(token, { userId: 2 }, conn("thief"))).toEqual({
      ok: false,
      failure: "mismatch",
    });
    expect(session.state).toBe("detached");
    // The token was not spent by the refusal.
    expect(store.take(token, { userId: 1 }, conn("b"))).toMatchObject({ ok: true });
  });

  it("uses an injected sameClient hook", () => {
    const { store, conn } = setup({
      sameClient: (was, now) => (was as { sub: string }).sub === (now as { sub: string }).sub,
    });
    const a = conn("a");
    const { session, token } = store.create("s1", { sub: "u", at: 1 }, a)!;
    store.detach(session, a);
    expect(store.take(token, { sub: "u", at: 2 }, conn("b"))).toMatchObject({ ok: true });
  });

  it("answers unknown for a wrong secret, a malformed token and no token, leaving the session", () => {
    const { store, conn } = setup();
    const a = conn("a");
    const { session, token } = store.create("s1", undefined, a)!;
    store.detach(session, a);
    const [id, secret] = token.split(".") as [string, string];
    const wrong = `${id}.${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    for (const t of [wrong, `${id}.`, `${id}.${secret}x`, "nope", "", undefined, `x${token}`]) {
      expect(store.take(t, undefined, conn("b"))).toEqual({ ok: false, failure: "unknown" });
    }
    expect(session.state).toBe("detached");
    expect(store.take(token, undefined, conn("b"))).toMatchObject({ ok: true });
  });

  it("ends deliberately at once, reported once, with no tombstone (unknown after)", () => {
    const { store, conn, ends, clock } = setup();
    const a = conn("a");
    const { session, token } = store.create("s1", undefined, a)!;
    session.unacked.push("x", "{}");
    expect(store.end(session, "client_closed", a)).toBe(true);
    expect(store.end(session, "client_closed")).toBe(false);
    expect(store.detach(session, a)).toBe(false);
    expect(ends).toEqual([
      {
        sessionId: "s1",
        reason: "client_closed",
        undelivered: [{ seq: 1, data: "x" }],
        at: clock.now,
      },
    ]);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "unknown" });
    expect(store.stats()).toEqual({ sessions: 0, detached: 0, evicted: 0, refused: 0, adopted: 0 });
  });

  it("ends a detached session on overflow; the next resume hears overflow, for windowMs", () => {
    const { store, conn, ends, clock } = setup({ maxUnackedMessages: 1 });
    const a = conn("a");
    const { session, token } = store.create("s1", undefined, a)!;
    store.detach(session, a);
    expect(session.unacked.push("x", "{}")).toBe("ok");
    expect(session.unacked.push("y", "{}")).toBe("full");
    expect(store.end(session, "overflow")).toBe(true);
    expect(ends).toMatchObject([{ reason: "overflow", undelivered: [{ seq: 1, data: "x" }] }]);
    clock.tick(W - 1);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "overflow" });
    clock.tick(1);
    expect(store.take(token, undefined, conn("b"))).toEqual({ ok: false, failure: "unknown" });
    expect(ends).toHaveLength(1);
  });

  it("re-detaches after a resume with a fresh window", () => {
    const { store, conn, clock, ends } = setup();
    const a = conn("a");
    const b = conn("b");
    const created = store.create("s1", undefined, a)!;
    store.detach(created.session, a);
    clock.tick(W - 10);
    const taken = store.take(created.token, undefined, b);
    if (!taken.ok) throw new Error("expected a resume");
    clock.tick(100);
    store.detach(taken.session, b);
    clock.tick(W - 1);
    expect(ends).toEqual([]);
    clock.tick(1);
    expect(ends.map((e) => e.reason)).toEqual(["expired"]);
  });

  it("holds at most maxSessions: create says no at the bound, yes again once one ends", () => {
    const { store, conn } = setup({ maxSessions: 2 });
    const a = conn("a");
    const first = store.create("s1", undefined, a)!;
    expect(store.create("s2", undefined, conn("b"))).toBeDefined();
    expect(store.create("s3", undefined, conn("c"))).toBeUndefined();
    store.end(first.session, "client_closed");
    expect(store.create("s3", undefined, conn("c"))).toBeDefined();
  });

  it("bounds unacked bytes across sessions", () => {
    const { store, conn } = setup({ maxUnackedBytesTotal: 10 });
    const one = store.create("s1", undefined, conn("a"))!.session;
    const two = store.create("s2", undefined, conn("b"))!.session;
    expect(one.unacked.push("x", "x", 7)).toBe("ok");
    expect(two.unacked.push("y", "y", 4)).toBe("full");
    expect(two.unacked.push("y", "y", 3)).toBe("ok");
    expect(two.unacked.push("z", "z", 1)).toBe("full");
    store.end(one, "client_closed");
    // The ended session's 7 bytes went back to the total.
    expect(two.unacked.push("z", "z", 7)).toBe("ok");
    expect(two.unacked.push("z", "z", 1)).toBe("full");
  });

  it("runs every window on one timer, whatever the number of sessions", () => {
    const { store, conn, clock, ends } = setup();
    for (let i = 0; i < 100; i++) {
      const c = conn(`c${i}`);
      const { session } = store.create(`s${i}`, undefined, c)!;
      store.detach(session, c);
      clock.tick(10);
    }
    expect(clock.countTimers()).toBe(1);
    clock.tick(W);
    expect(ends).toHaveLength(100);
    // Now the tombstones' one timer.
    expect(clock.countTimers()).toBe(1);
    clock.tick(W);
    expect(clock.countTimers()).toBe(0);
    expect(store.stats()).toEqual({ sessions: 0, detached: 0, evicted: 0, refused: 0, adopted: 0 });
  });

  it("keeps its state when onEnd throws, and rethrows on a microtask", async () => {
    const { fc: clock, clock: heartlineClock } = fakeClock();
    const store = memoryStore({}, heartlineClock, () => {
      throw new Error("listener broke");
    });
    const rethrown: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (fn) =>
      original(() => {
        try {
          fn();
        } catch (error) {
          rethrown.push(error);
        }
      });
    try {
      const c1 = { nodeId: "local", connectionId: "1" };
      const c2 = { nodeId: "local", connectionId: "2" };
      const one = store.create("s1", undefined, c1)!;
      const two = store.create("s2", undefined, c2)!;
      store.detach(one.session, c1);
      store.detach(two.session, c2);
      clock.tick(W);
      await Promise.resolve();
      expect(rethrown).toHaveLength(2);
      expect(store.stats()).toMatchObject({ sessions: 0, detached: 0 });
      // The tombstones survived the throw: both ids still answer expired.
      expect(store.take(one.token, undefined, c1)).toEqual({ ok: false, failure: "expired" });
      expect(store.take(two.token, undefined, c2)).toEqual({ ok: false, failure: "expired" });
    } finally {
      globalThis.queueMicrotask = original;
    }
  });

  it("keeps the token's secret off the session object", () => {
    const { store, conn } = setup();
    const { session, token } = store.create("s1", undefined, conn("a"))!;
    const secret = token.split(".")[1]!;
    const seen = new WeakSet<object>();
    const dump = JSON.stringify(session, (_key, value) => {
      if (typeof value === "object" && value !== null) {
        if (seen.has(value)) return undefined;
        seen.add(value);
      }
      return value;
    });
    expect(dump).not.toContain(secret);
  });
});

describe("sameClientDefault", () => {
  it.each([
    [undefined, undefined, true],
    ["u1", "u1", true],
    ["u1", "u2", false],
    [{ userId: 7 }, { userId: 7 }, true],
    [{ userId: 7 }, { userId: 8 }, false],
    [{ userId: 7 }, { userId: 7, admin: true }, false],
    [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, true],
    [[1], { 0: 1 }, false],
    [new Date(1), new Date(1), false],
    [{ userId: 7 }, undefined, false],
    [null, undefined, false],
    [Number.NaN, Number.NaN, true],
  ])("%j vs %j → %s", (a, b, expected) => {
    expect(sameClientDefault(a, b)).toBe(expected);
  });
});

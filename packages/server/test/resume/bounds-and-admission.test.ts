// Overflow, memory bounds, broadcast, shutdown and the resume offer in admission.
import { type Clock, clockOf } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";
import { describe, expect, it } from "vitest";
import { FakeServerTransport } from "../../../testing/src/fake-transport.js";
import { createServerCore, type UpgradeRequest } from "../../src/core/index.js";
import { INTERVAL, resumeSetup, WINDOW } from "./harness.js";

describe("resume: overflow", () => {
  it("a full buffer ends the session: send false, close 1013, sessionEnd with the data, resumeFailed next", () => {
    const s = resumeSetup({ maxUnackedMessages: 3 });
    const a = s.open({});
    const conn = s.conns()[0]!;
    expect([conn.send("m1"), conn.send("m2"), conn.send("m3")]).toEqual([true, true, true]);
    expect(conn.send("m4")).toBe(false);
    expect(a.transport.log.at(-1)).toBe("close:1013:server_closed");
    expect(s.log.slice(-2)).toEqual([
      "disconnect:s1:server_closed:false",
      "sessionEnd:s1:overflow",
    ]);
    expect(s.disconnects).toMatchObject([
      { reason: "server_closed", code: 1013, resumable: false },
    ]);
    expect(s.sessionEnds).toMatchObject([{ reason: "overflow", undelivered: ["m1", "m2", "m3"] }]);
    expect(conn.send("m5")).toBe(false);
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "overflow" });
  });

  it("acks make room: a session acked in time never overflows", () => {
    const s = resumeSetup({ maxUnackedMessages: 3 });
    const a = s.open({});
    const conn = s.conns()[0]!;
    for (let i = 1; i <= 30; i++) {
      expect(conn.send(i)).toBe(true);
      if (i % 3 === 0) a.ack(i);
    }
    expect(s.sessionEnds).toEqual([]);
  });

  it("overflows on bytes per session as well as on messages", () => {
    const s = resumeSetup({ maxUnackedBytes: 100 });
    s.open({});
    const conn = s.conns()[0]!;
    expect(conn.send("x".repeat(40))).toBe(true);
    expect(conn.send("x".repeat(40))).toBe(false);
    expect(s.sessionEnds).toMatchObject([{ reason: "overflow", undelivered: ["x".repeat(40)] }]);
  });

  it("bounds the bytes across sessions: the session whose push passes the total overflows, others carry on", () => {
    const s = resumeSetup({ maxUnackedBytesTotal: 150 });
    s.open({});
    s.open({});
    const [one, two] = s.conns();
    expect(one!.send("a".repeat(50))).toBe(true);
    expect(two!.send("b".repeat(50))).toBe(false);
    expect(s.sessionEnds).toMatchObject([{ sessionId: "s2", reason: "overflow" }]);
    expect(one!.isOpen).toBe(true);
  });

  it("broadcast numbers each resumable session's copy, plain v1 connections get none; an overflow is not counted", () => {
    const s = resumeSetup({ maxUnackedMessages: 1 });
    const r = s.open({});
    const v1 = s.open();
    s.conns()[0]!.send("own");
    r.ack(1);
    expect(s.core.broadcast({ all: 1 })).toBe(2);
    expect(r.messages()).toEqual([
      [1, "own"],
      [2, { all: 1 }],
    ]);
    expect(v1.messages()).toEqual([[undefined, { all: 1 }]]);
    expect(s.core.broadcast({ all: 2 })).toBe(1);
    expect(s.sessionEnds).toMatchObject([{ reason: "overflow", undelivered: [{ all: 1 }] }]);
    expect(s.core.stats().messagesOut).toBe(4);
  });
});

describe("resume: bounds on sessions", () => {
  it("at maxSessions a new connection is plain v1 (no resume in its welcome); held sessions are kept", () => {
    const s = resumeSetup({ maxSessions: 2 });
    const a = s.open({});
    s.open({});
    const third = s.open({});
    expect(third.welcome.resume).toBeUndefined();
    s.conns()[2]!.send("plain");
    expect(third.messages()).toEqual([[undefined, "plain"]]);
    a.lose();
    expect(s.open({ token: a.token }).welcome.resumed).toEqual({ ack: 0 });
  });

  it("a session not resumed is gone after its window (then its tombstone after another)", () => {
    const s = resumeSetup();
    for (let i = 0; i < 20; i++) s.open({}).lose();
    expect(s.core.stats().sessions).toMatchObject({ detached: 20 });
    s.fc.tick(WINDOW);
    expect(s.core.stats().sessions).toEqual({
      live: 0,
      detached: 0,
      resumed: 0,
      ended: 20,
      evicted: 0,
      refused: 0,
    });
  });
});

describe("resume: shutdown", () => {
  it("close() ends every session, live or waiting, each reported once with its undelivered messages, before it resolves", async () => {
    const s = resumeSetup();
    const live = s.open({});
    s.conns()[0]!.send("in flight");
    const waiting = s.open({});
    s.conns()[1]!.send("never read");
    waiting.lose();
    s.core.session("s2")!.send("kept while away");
    let resolved = false;
    const closed = s.core.close().then(() => {
      resolved = true;
    });
    expect(live.transport.types()).toEqual(["welcome", "message", "goodbye"]);
    // Reported at once: a process that exits after `await close()` has heard of every session.
    expect(s.sessionEnds).toMatchObject([
      { sessionId: "s1", reason: "server_closed", undelivered: ["in flight"] },
      { sessionId: "s2", reason: "server_closed", undelivered: ["never read", "kept while away"] },
    ]);
    expect(s.disconnects.at(-1)).toMatchObject({
      sessionId: "s1",
      reason: "server_closed",
      code: 1001,
      resumable: false,
    });
    // The disconnect first, then the end of its session.
    expect(s.log.slice(-3)).toEqual([
      "disconnect:s1:server_closed:false",
      "sessionEnd:s1:server_closed",
      "sessionEnd:s2:server_closed",
    ]);
    expect(resolved).toBe(false);
    live.lose();
    await closed;
    s.fc.tick(WINDOW * 3);
    expect(s.sessionEnds).toHaveLength(2);
    expect(s.core.stats().sessions).toMatchObject({ live: 0, detached: 0, ended: 2 });
    await s.core.close();
    expect(s.sessionEnds).toHaveLength(2);
  });

  it("a closed server keeps no timer that could hold its process: what is left is unref'd", async () => {
    const fc = FakeTimers.createClock(1_000_000);
    const unrefs: unknown[] = [];
    const timers: Clock = {
      ...clockOf(fc),
      setTimeout: (callback, ms) => {
        const handle = { id: fc.setTimeout(callback, ms), unref: () => unrefs.push(handle) };
        return handle;
      },
      clearTimeout: (handle) => fc.clearTimeout((handle as { id: number }).id as never),
    };
    const core = createServerCore({
      clock: timers,
      intervalMs: INTERVAL,
      resume: { windowMs: WINDOW },
    });
    const transport = new FakeServerTransport();
    const sink = core.accept(transport, { auth: undefined, resume: { token: undefined } });
    sink.receive('{"type":"message","seq":1,"data":"owed an ack"}');
    const closed = core.close();
    sink.closed(1006, false);
    await closed;
    // The session ended with the shutdown (no window timer); the ack queue's is unref'd.
    expect(fc.countTimers()).toBe(1);
    expect(unrefs).toHaveLength(1);
  });
});

describe("resume: the offer in admission", () => {
  const request = (protocols: string): { headers: UpgradeRequest["headers"]; url: string } => ({
    headers: { "sec-websocket-protocol": protocols },
    url: "/ws",
  });

  it("passes the offer on only with resumption on", () => {
    const on = createServerCore({ resume: {} });
    const off = createServerCore({});
    const admit = (core: typeof on, protocols: string) =>
      core.admit({ ...request(protocols), remoteAddress: undefined, raw: request(protocols) });
    // The store opened the session at admission: it rides in the offer to accept.
    expect(admit(on, "heartline.v1, heartline.resume")).toMatchObject({
      kind: "accepted",
      auth: undefined,
      protocol: "heartline.v1",
      resume: { token: undefined, opened: { result: { kind: "created" } } },
    });
    expect(admit(on, "heartline.v1, heartline.resume.ab.cd, heartline.resume.ef.gh")).toMatchObject(
      {
        resume: { token: "ab.cd" },
      },
    );
    expect(admit(on, "heartline.v1")).toMatchObject({ resume: undefined });
    expect(admit(off, "heartline.v1, heartline.resume.ab.cd")).toMatchObject({
      kind: "accepted",
      resume: undefined,
    });
    // A resume offer without heartline.v1 fails the subprotocol check like any foreign offer.
    expect(admit(on, "heartline.resume.ab.cd")).toMatchObject({ kind: "refused", status: 400 });
  });

  it("a resume refused by authenticate (401) has not spent its token", async () => {
    let allow = true;
    const s = resumeSetup({}, { authenticate: () => (allow ? { user: 1 } : false) });
    const a = s.open({}, { user: 1 });
    a.lose();
    allow = false;
    const offer = request(`heartline.v1, heartline.resume.${a.token}`);
    const refused = await s.core.admit({ ...offer, remoteAddress: undefined, raw: offer });
    expect(refused).toMatchObject({ kind: "refused", status: 401 });
    allow = true;
    const admitted = await s.core.admit({ ...offer, remoteAddress: undefined, raw: offer });
    expect(admitted).toMatchObject({ kind: "accepted", resume: { token: a.token } });
    const transport = new FakeServerTransport();
    if (admitted.kind !== "accepted") throw new Error("refused");
    s.core.accept(transport, { auth: admitted.auth, resume: admitted.resume });
    expect(transport.sent[0]).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
  });

  it("with resumption off a resume offer gets a plain v1 welcome", () => {
    const s = resumeSetup(false);
    const p = s.open({ token: "ab.cd" });
    expect(Object.keys(p.welcome).sort()).toEqual(["heartbeat", "protocol", "sessionId", "type"]);
    s.conns()[0]!.send("x");
    expect(p.messages()).toEqual([[undefined, "x"]]);
    expect(s.core.stats().sessions).toEqual({
      live: 0,
      detached: 0,
      resumed: 0,
      ended: 0,
      evicted: 0,
      refused: 0,
    });
  });

  it.each([
    [{ windowMs: 0 }],
    [{ windowMs: Infinity }],
    [{ maxUnackedMessages: 1.5 }],
    [{ maxSessions: 0 }],
    [{ maxUnackedBytes: -1 }],
  ])("refuses the resume option %j", (resume) => {
    expect(() => createServerCore({ resume })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });
});

// A session is the application's handle while it waits for its client
// (issue 21, point 1; PROTOCOL.md "Between connections"): the `conn` the
// application kept and `session(id)` still accept `send`; `broadcast`
// reaches waiting sessions; both numbered and kept within the same bounds,
// replayed on resume, reported at the session's end. On the fake clock,
// with fake transports.
import { describe, expect, it } from "vitest";
import { INTERVAL, resumeSetup, WINDOW } from "./harness.js";

describe("a session waiting for its client", () => {
  it("alice half-open, bob talks, the app broadcasts: alice gets every broadcast on resume, in order, once", () => {
    const s = resumeSetup();
    // The app relays every message to everyone, as a chat does.
    const counts: number[] = [];
    s.core.on("message", (_conn, data) => counts.push(s.core.broadcast(data)));
    const alice = s.open({});
    const bob = s.open({});
    bob.send(1, "tick 1");
    alice.ack(1);
    // Alice's link goes half-open: nothing more from her; the server times her out at 2X.
    alice.ping();
    bob.ping();
    s.fc.tick(2 * INTERVAL - 1);
    bob.ping();
    expect(s.conns()).toHaveLength(2);
    s.fc.tick(1);
    expect(s.disconnects).toMatchObject([{ sessionId: "s1", reason: "timeout", resumable: true }]);
    // Bob keeps talking while she is away.
    for (let n = 2; n <= 5; n++) bob.send(n, `tick ${n}`);
    // Each broadcast reached bob (live) and alice's waiting session: 2, not 1.
    expect(counts).toEqual([2, 2, 2, 2, 2]);
    const back = s.open({ token: alice.token });
    expect(back.welcome.resumed).toEqual({ ack: 0 });
    expect(back.messages()).toEqual([
      [2, "tick 2"],
      [3, "tick 3"],
      [4, "tick 4"],
      [5, "tick 5"],
    ]);
    expect(s.resumes).toMatchObject([{ sessionId: "s1", replayed: 4 }]);
    bob.send(6, "tick 6");
    expect(back.messages().at(-1)).toEqual([6, "tick 6"]);
    expect(s.sessionEnds).toEqual([]);
  });

  it("session(id) is one handle for the session's life: live, waiting (send still accepts), live again, then gone", () => {
    const s = resumeSetup();
    const peer = s.open({});
    const handle = s.core.session("s1")!;
    expect(handle).toMatchObject({ sessionId: "s1", state: "live", isOpen: true });
    expect(handle.send("one")).toBe(true);
    expect(peer.messages()).toEqual([[1, "one"]]);
    peer.lose();
    expect(handle).toMatchObject({ state: "waiting", isOpen: false });
    expect(s.core.session("s1")).toBe(handle);
    expect(handle.send("two")).toBe(true);
    const back = s.open({ token: peer.token });
    expect(s.core.session("s1")).toBe(handle);
    expect(handle).toMatchObject({ state: "live", isOpen: true });
    expect(handle.send("three")).toBe(true);
    expect(back.messages()).toEqual([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
    // The client closes 1000: a deliberate end. The handle says so and refuses.
    back.closeWith(1000);
    expect(handle.state).toBe("ended");
    expect(handle.send("four")).toBe(false);
    expect(s.core.session("s1")).toBeUndefined();
  });

  it("the conn the app kept forwards to the session: kept while waiting, sent on the resumed connection", () => {
    const s = resumeSetup();
    const peer = s.open({});
    const kept = s.conns()[0]!;
    peer.lose();
    expect(kept.isOpen).toBe(false);
    expect(kept.state).toBe("waiting");
    expect(kept.send("while away")).toBe(true);
    const back = s.open({ token: peer.token });
    expect(kept.state).toBe("live");
    expect(kept.send("after")).toBe(true);
    expect(back.messages()).toEqual([
      [1, "while away"],
      [2, "after"],
    ]);
  });

  it("a message kept for a session that never comes back is reported undelivered at its end (window, exact boundary)", () => {
    const s = resumeSetup();
    const peer = s.open({});
    peer.lose();
    expect(s.core.session("s1")!.send("never read")).toBe(true);
    s.fc.tick(WINDOW - 1);
    expect(s.sessionEnds).toEqual([]);
    s.fc.tick(1);
    expect(s.sessionEnds).toEqual([
      expect.objectContaining({ sessionId: "s1", reason: "expired", undelivered: ["never read"] }),
    ]);
  });

  it("the same bounds as a live session: past maxUnackedMessages the send is refused and the session ends overflow", () => {
    const s = resumeSetup({ maxUnackedMessages: 3 });
    const peer = s.open({});
    peer.lose();
    const handle = s.core.session("s1")!;
    for (const m of ["a", "b", "c"]) expect(handle.send(m)).toBe(true);
    expect(handle.send("d")).toBe(false);
    expect(s.sessionEnds).toEqual([
      expect.objectContaining({
        sessionId: "s1",
        reason: "overflow",
        undelivered: ["a", "b", "c"],
      }),
    ]);
    expect(s.open({ token: peer.token }).welcome.resumeFailed).toBe("overflow");
  });

  it("broadcast's filter sees a waiting session as its handle; the count is of sessions that took it", () => {
    const s = resumeSetup();
    s.open({}).lose();
    s.open({});
    const seen: string[] = [];
    const count = s.core.broadcast("hi", (conn) => {
      seen.push(`${conn.sessionId}:${conn.state}:${conn.isOpen}`);
      return true;
    });
    expect(count).toBe(2);
    expect(seen.sort()).toEqual(["s1:waiting:false", "s2:live:true"]);
    expect(s.core.broadcast("only live", (conn) => conn.isOpen)).toBe(1);
  });

  it("a broadcast that overflows waiting sessions reaches every one of them, each ended once with what it held", () => {
    const s = resumeSetup({ maxUnackedMessages: 1 });
    for (let i = 0; i < 3; i++) s.open({}).lose();
    expect(s.core.broadcast("first")).toBe(3);
    expect(s.core.broadcast("second")).toBe(0);
    expect(s.sessionEnds.map((e) => [e.sessionId, e.reason, e.undelivered])).toEqual([
      ["s1", "overflow", ["first"]],
      ["s2", "overflow", ["first"]],
      ["s3", "overflow", ["first"]],
    ]);
    expect(s.core.broadcast("third")).toBe(0);
    expect(s.sessionEnds).toHaveLength(3);
  });

  it("closing a waiting session's handle ends it now, server_closed, with what it held", () => {
    const s = resumeSetup();
    s.open({}).lose();
    const handle = s.core.session("s1")!;
    handle.send("held");
    handle.close();
    expect(s.sessionEnds).toEqual([
      expect.objectContaining({ sessionId: "s1", reason: "server_closed", undelivered: ["held"] }),
    ]);
    expect(handle.state).toBe("ended");
  });

  it("conn.resumable: true on a resumable session's connections (new and resumed) and its handle, false on plain v1; fixed for life", () => {
    const s = resumeSetup();
    const seen: boolean[] = [];
    s.core.on("connection", (conn) => seen.push(conn.resumable));
    const peer = s.open({});
    const plain = s.open();
    peer.lose();
    s.open({ token: peer.token });
    expect(seen).toEqual([true, false, true]);
    expect(s.core.session("s1")!.resumable).toBe(true);
    expect(s.core.session("s2")!.resumable).toBe(false);
    plain.lose();
    expect(s.conns().map((c) => [c.sessionId, c.resumable])).toEqual([["s1", true]]);
  });

  it("plain v1 is unchanged: an ended connection refuses, session(id) finds only open ones", () => {
    const s = resumeSetup(false);
    const peer = s.open();
    const conn = s.core.session("s1")!;
    expect(conn.send("x")).toBe(true);
    peer.lose();
    expect(conn.state).toBe("ended");
    expect(conn.send("y")).toBe(false);
    expect(s.core.session("s1")).toBeUndefined();
  });
});

// Takeover, the window's boundary, token reuse and theft, and exactly-once reports under races.
import { describe, expect, it } from "vitest";
import { INTERVAL, type Peer, resumeSetup, WINDOW } from "./harness.js";

describe("resume: the half-open link, both ways", () => {
  it("client → server: what the client sent into the dead link is replayed after the timeout and delivered once", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.send(1, "c1");
    a.send(2, "c2");
    // The link goes half-open: c3 and c4 never reach the server; the server times out at 2X.
    s.fc.tick(2 * INTERVAL);
    expect(s.disconnects).toMatchObject([{ reason: "timeout", resumable: true }]);
    const b = s.open({ token: a.token });
    expect(b.welcome.resumed).toEqual({ ack: 2 });
    // The client replays what is above resumed.ack, in order.
    b.send(3, "c3");
    b.send(4, "c4");
    expect(s.received.map((r) => r.data)).toEqual(["c1", "c2", "c3", "c4"]);
  });

  it("server → client: what the server sent into the dead link is replayed in order, before anything new", () => {
    const s = resumeSetup();
    const a = s.open({});
    const old = s.conns()[0]!;
    old.send("s1");
    a.ack(1);
    // Half-open: s2 and s3 are written but never arrive, so never acked.
    old.send("s2");
    old.send("s3");
    s.fc.tick(2 * INTERVAL);
    // The session waits for its client: the connection the app kept still takes a message, for the replay.
    expect(old.send("while away")).toBe(true);
    const b = s.open({ token: a.token });
    expect(b.transport.types()).toEqual(["welcome", "message", "message", "message"]);
    expect(b.messages()).toEqual([
      [2, "s2"],
      [3, "s3"],
      [4, "while away"],
    ]);
    expect(s.resumes).toMatchObject([{ replayed: { toClient: 3 }, ack: 0 }]);
    s.conns()[0]!.send("s4");
    expect(b.messages().at(-1)).toEqual([5, "s4"]);
  });

  it("a connection listener's first send comes after the replay", () => {
    const s = resumeSetup();
    const a = s.open({});
    s.conns()[0]!.send("old");
    a.lose();
    s.core.on("connection", (conn) => conn.send("new"));
    const b = s.open({ token: a.token });
    expect(b.messages()).toEqual([
      [1, "old"],
      [2, "new"],
    ]);
  });
});

describe("resume: takeover before the server noticed", () => {
  it("closes the old connection 4409, drops its socket at once, reports replaced once", () => {
    const s = resumeSetup();
    const a = s.open({});
    s.conns()[0]!.send("x");
    a.send(1, "a");
    const b = s.open({ token: a.token });
    expect(a.transport.log.slice(-2)).toEqual(["close:4409:replaced", "terminate"]);
    expect(s.log).toEqual([
      "connection:s1",
      'message:s1:"a"',
      "disconnect:s1:replaced:true",
      "connection:s1",
      "resume:s1",
    ]);
    expect(s.resumes).toEqual([{ sessionId: "s1", gapMs: 0, replayed: { toClient: 1 }, ack: 1 }]);
    // The old socket's own end later changes nothing; nor does its silence deadline.
    a.lose();
    a.send(2, "late");
    s.fc.tick(10 * INTERVAL);
    expect(s.disconnects.filter((d) => d.reason === "replaced")).toHaveLength(1);
    expect(s.received.map((r) => r.data)).toEqual(["a"]);
    expect(b.messages()).toEqual([[1, "x"]]);
    expect(s.sessionEnds.filter((e) => e.sessionId === "s1")).toHaveLength(
      s.core.stats().sessions.ended,
    );
  });

  it("a deliberate close of the replaced connection does not end the session that moved on", () => {
    const s = resumeSetup();
    const a = s.open({});
    const b = s.open({ token: a.token });
    a.closeWith(1000);
    expect(s.sessionEnds).toEqual([]);
    b.send(1, "still here");
    expect(s.received.map((r) => r.data)).toEqual(["still here"]);
  });
});

describe("resume: the window's boundary", () => {
  it("resumes at windowMs − 1 after the end was reported", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.lose();
    s.fc.tick(WINDOW - 1);
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(s.resumes).toMatchObject([{ gapMs: WINDOW - 1 }]);
  });

  it("is expired at windowMs, even where the expiry and the resume fall in the same tick", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.lose();
    // Advance the clock without running timers: the resume finds the window gone itself.
    s.fc.setSystemTime(s.fc.now + WINDOW);
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "expired" });
    s.fc.tick(0);
    expect(s.sessionEnds.filter((e) => e.sessionId === "s1")).toMatchObject([
      { reason: "expired" },
    ]);
  });

  it("tells expired from unknown for another window, then forgets", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.lose();
    s.fc.tick(WINDOW);
    s.fc.tick(WINDOW - 1);
    expect(s.open({ token: a.token }).welcome.resumeFailed).toBe("expired");
    s.fc.tick(1);
    expect(s.open({ token: a.token }).welcome.resumeFailed).toBe("unknown");
  });
});

describe("resume: tokens", () => {
  it("a token works once: reusing it after the new connection proved alive is refused (unknown) and leaves the session untouched", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.lose();
    const b = s.open({ token: a.token });
    b.ping();
    const replay = s.open({ token: a.token });
    expect(replay.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "unknown" });
    expect(b.transport.log.some((l) => l.startsWith("close"))).toBe(false);
    // The rightful holder's fresh token still works.
    b.lose();
    const c = s.open({ token: b.token });
    expect(c.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
  });

  it("a stolen token from another authenticated client is refused (mismatch); the session is untouched", () => {
    const s = resumeSetup<{ user: number }>();
    const a = s.open({}, { user: 7 });
    s.conns()[0]!.send("private");
    const thief = s.open({ token: a.token }, { user: 8 });
    expect(thief.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "mismatch" });
    expect(thief.messages()).toEqual([]);
    expect(a.transport.log.some((l) => l.startsWith("close"))).toBe(false);
    // Not spent: the owner can still resume with it (equal plain data matches).
    a.lose();
    const back = s.open({ token: a.token }, { user: 7 });
    expect(back.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(back.messages()).toEqual([[1, "private"]]);
  });

  it("a sameClient hook replaces the comparison", () => {
    const s = resumeSetup<{ user: number; device: string }>({
      sameClient: (was, now) => was.user === now.user,
    });
    const a = s.open({}, { user: 7, device: "phone" });
    a.lose();
    const b = s.open({ token: a.token }, { user: 7, device: "laptop" });
    expect(b.welcome.resumed).toEqual({ ack: 0 });
  });

  it.each(["", "no-dot", "a.b.c", "x".repeat(201), "bad*char.secret"])(
    "a malformed token (%s) names no session: unknown",
    (token) => {
      const s = resumeSetup();
      const p = s.open({ token });
      expect(p.welcome).toMatchObject({ sessionId: "s1", resumeFailed: "unknown" });
      expect(p.welcome.resume).toBeDefined();
    },
  );

  it("tokens appear in no event and no error", () => {
    const s = resumeSetup();
    const a = s.open({});
    s.conns()[0]!.send("x");
    s.fc.tick(2 * INTERVAL);
    const b = s.open({ token: a.token });
    b.closeWith(1000);
    const secrets = [a.token, b.token].map((t) => t.split(".")[1]!);
    const reported = JSON.stringify([
      s.disconnects,
      s.resumes,
      s.sessionEnds,
      s.errors,
      s.core.stats(),
    ]);
    for (const secret of secrets) expect(reported).not.toContain(secret);
    expect(s.sessionEnds).toHaveLength(1);
  });
});

describe("resume: the token resumed with stays valid until the new connection proves alive", () => {
  const firstFrames: Array<[string, (p: Peer) => void]> = [
    ["ping", (p) => p.ping()],
    ["ack", (p) => p.ack(0)],
    ["message", (p) => p.send(1, "hi")],
  ];

  it.each(firstFrames)("the first frame (%s) on the new connection spends it", (_name, frame) => {
    const s = resumeSetup();
    const a = s.open({});
    a.lose();
    const b = s.open({ token: a.token });
    frame(b);
    const late = s.open({ token: a.token });
    expect(late.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "unknown" });
    expect(b.transport.log.some((l) => l.startsWith("close"))).toBe(false);
    // b's own token works.
    b.lose();
    expect(s.open({ token: b.token }).welcome).toMatchObject({ sessionId: "s1", resumed: {} });
  });

  it("before any frame, it is a normal resume: the unproven connection is taken over (4409)", () => {
    const s = resumeSetup();
    const a = s.open({});
    s.conns()[0]!.send("s-1");
    a.lose();
    // The client gave this attempt up: it never reads b's welcome.
    const b = s.open({ token: a.token });
    expect(b.messages()).toEqual([[1, "s-1"]]);
    const c = s.open({ token: a.token });
    expect(c.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(b.transport.log.slice(-2)).toEqual(["close:4409:replaced", "terminate"]);
    expect(c.messages()).toEqual([[1, "s-1"]]);
    expect(s.disconnects.map((d) => d.reason)).toEqual(["connection_lost", "replaced"]);
    expect(s.resumes).toHaveLength(2);
    // b's token was never proved and is superseded.
    expect(s.open({ token: b.token }).welcome.resumeFailed).toBe("unknown");
    c.ping();
    expect(s.open({ token: a.token }).welcome.resumeFailed).toBe("unknown");
    expect(s.sessionEnds).toEqual([]);
  });

  it("a late, abandoned resume whose connection then died: the old token still resumes in the window", () => {
    const s = resumeSetup();
    const a = s.open({});
    s.conns()[0]!.send("s-1");
    a.lose();
    const b = s.open({ token: a.token });
    s.fc.tick(500);
    b.lose(); // the client had closed that socket: connection_lost, resumable
    expect(s.disconnects.at(-1)).toMatchObject({ reason: "connection_lost", resumable: true });
    s.fc.tick(300);
    const c = s.open({ token: a.token });
    expect(c.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(c.messages()).toEqual([[1, "s-1"]]);
    expect(s.resumes.at(-1)).toMatchObject({ gapMs: 300, replayed: { toClient: 1 } });
    expect(s.sessionEnds).toEqual([]);
  });

  it("the new token works before the first frame too; then the older one is gone", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.lose();
    const b = s.open({ token: a.token });
    b.lose(); // the client read b's welcome; b died before its first frame
    const c = s.open({ token: b.token });
    expect(c.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
    expect(s.open({ token: a.token }).welcome.resumeFailed).toBe("unknown");
  });
});

describe("resume: exactly one disconnect per connection, one sessionEnd per session", () => {
  it("close vs timeout vs takeover vs shutdown", async () => {
    const s = resumeSetup();
    const peers = [s.open({}), s.open({}), s.open({}), s.open({})];
    // 1: takeover, then its old socket closes and its deadline passes.
    const taken = s.open({ token: peers[0]!.token });
    peers[0]!.closeWith(1000);
    // 2: times out, then its socket closes, then the server shuts down.
    s.fc.tick(2 * INTERVAL - 1);
    for (const p of [taken, peers[2]!, peers[3]!]) p.ping();
    s.fc.tick(1);
    peers[1]!.lose();
    // 3: a deliberate close inside its own disconnect listener race.
    s.core.on("disconnect", (_info, conn) => conn.close());
    peers[2]!.closeWith(1000);
    const closed = s.core.close();
    for (const p of [taken, peers[2]!, peers[3]!]) p.lose();
    await closed;
    s.fc.tick(WINDOW * 3);
    const perSession = new Map<string, number>();
    for (const e of s.sessionEnds)
      perSession.set(e.sessionId, (perSession.get(e.sessionId) ?? 0) + 1);
    expect([...perSession.values()].every((n) => n === 1)).toBe(true);
    expect(perSession.size).toBe(4);
    // Five connections in all, each reported once (shutdown goes in accept order).
    expect(s.disconnects).toHaveLength(5);
    expect(s.disconnects.map((d) => `${d.sessionId}:${d.reason}`)).toEqual([
      "s1:replaced",
      "s2:timeout",
      "s3:client_closed",
      "s4:server_closed",
      "s1:server_closed",
    ]);
    // The shutdown ends every session still held (s2 was waiting, s1 and s4 live): none outlives close().
    expect(s.sessionEnds.map((e) => `${e.sessionId}:${e.reason}`).sort()).toEqual([
      "s1:server_closed",
      "s2:server_closed",
      "s3:client_closed",
      "s4:server_closed",
    ]);
    expect(s.core.stats().sessions).toEqual({
      live: 0,
      detached: 0,
      resumed: 1,
      ended: 4,
      evicted: 0,
      refused: 0,
    });
  });
});

// Resumable sessions end to end in the core: offer → welcome → seq/ack → drop → resume → replay.
import { describe, expect, it } from "vitest";
import { INTERVAL, resumeSetup, WINDOW } from "./harness.js";

describe("resume: a session across two connections", () => {
  it("numbers messages both ways, keeps them over a drop, replays them after a resumed welcome", () => {
    const s = resumeSetup();
    const a = s.open({});
    expect(a.welcome).toEqual({
      type: "welcome",
      protocol: 1,
      sessionId: "s1",
      heartbeat: { intervalMs: INTERVAL, timeoutMs: 2 * INTERVAL },
      resume: { token: expect.stringMatching(/^[\w-]+\.[\w-]{24}$/), windowMs: WINDOW },
    });
    a.send(1, "a");
    a.send(2, "b");
    const conn = s.conns()[0]!;
    expect(conn.send("x")).toBe(true);
    expect(conn.send("y")).toBe(true);
    expect(a.messages()).toEqual([
      [1, "x"],
      [2, "y"],
    ]);
    a.ack(1);
    a.lose();
    expect(s.disconnects).toMatchObject([{ reason: "connection_lost", resumable: true }]);
    expect(s.core.stats().sessions).toEqual({
      live: 0,
      detached: 1,
      resumed: 0,
      ended: 0,
      evicted: 0,
      refused: 0,
    });

    s.fc.tick(250);
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 2 } });
    expect(b.welcome.resume!.token).not.toBe(a.token);
    expect(b.welcome).not.toHaveProperty("resumeFailed");
    // Replay of what the client had not acknowledged, right after the welcome.
    expect(b.transport.types()).toEqual(["welcome", "message"]);
    expect(b.messages()).toEqual([[2, "y"]]);
    expect(s.resumes).toEqual([{ sessionId: "s1", gapMs: 250, replayed: { toClient: 1 }, ack: 2 }]);
    // New messages continue both counters.
    b.send(3, "c");
    expect(s.conns()[0]!.send("z")).toBe(true);
    expect(b.messages().at(-1)).toEqual([3, "z"]);
    expect(s.received.map((r) => r.data)).toEqual(["a", "b", "c"]);
    expect(s.log).toEqual([
      "connection:s1",
      'message:s1:"a"',
      'message:s1:"b"',
      "disconnect:s1:connection_lost:true",
      "connection:s1",
      "resume:s1",
      'message:s1:"c"',
    ]);
    expect(s.core.stats().sessions).toEqual({
      live: 1,
      detached: 0,
      resumed: 1,
      ended: 0,
      evicted: 0,
      refused: 0,
    });
  });

  it("ends the session when the window passes: reported once, with the undelivered data", () => {
    const s = resumeSetup<{ user: number }>();
    const a = s.open({}, { user: 7 });
    s.conns()[0]!.send({ n: 1 });
    s.conns()[0]!.send({ n: 2 });
    a.lose();
    s.fc.tick(WINDOW - 1);
    expect(s.sessionEnds).toEqual([]);
    s.fc.tick(1);
    expect(s.sessionEnds).toEqual([
      {
        sessionId: "s1",
        reason: "expired",
        undelivered: [{ n: 1 }, { n: 2 }],
        auth: { user: 7 },
        at: 1_000_000 + WINDOW,
      },
    ]);
    const b = s.open({ token: a.token }, { user: 7 });
    expect(b.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "expired" });
    expect(b.welcome.resume).toBeDefined();
    expect(s.core.stats().sessions).toEqual({
      live: 1,
      detached: 0,
      resumed: 0,
      ended: 1,
      evicted: 0,
      refused: 0,
    });
  });
});

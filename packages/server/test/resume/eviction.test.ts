// Bounds on sessions waiting for their client, and the eviction rule (issue
// 21, point 7): one address or one client cannot take the table; when it is
// full a waiting session gives way by the documented rule, reported
// `sessionEnd` reason `evicted` with its undelivered messages; counted.
import { describe, expect, it } from "vitest";
import { resumeSetup } from "./harness.js";

describe("resume: waiting sessions per address", () => {
  it("past maxWaitingPerAddress the address's oldest waiter is evicted, with its undelivered messages", () => {
    const s = resumeSetup({ maxWaitingPerAddress: 3 });
    const first = s.open({}, undefined, "10.0.0.9");
    s.conns()[0]!.send("for the first");
    first.lose();
    for (let i = 0; i < 3; i++) s.open({}, undefined, "10.0.0.9").lose();
    expect(s.sessionEnds).toEqual([
      expect.objectContaining({
        sessionId: "s1",
        reason: "evicted",
        undelivered: ["for the first"],
      }),
    ]);
    expect(s.core.stats().sessions).toMatchObject({ detached: 3, evicted: 1, ended: 1 });
    // The evicted session's token resumes nothing: a session that no longer exists.
    expect(s.open({ token: first.token }).welcome.resumeFailed).toBe("unknown");
  });

  it("counts waiting sessions only: live ones from the address are never evicted for it", () => {
    const s = resumeSetup({ maxWaitingPerAddress: 2 });
    for (let i = 0; i < 5; i++) s.open({}, undefined, "10.0.0.9");
    expect(s.core.stats().sessions).toMatchObject({ live: 5, evicted: 0 });
    for (const peer of s.conns()) peer.close(4000);
    expect(s.sessionEnds.filter((e) => e.reason === "evicted")).toEqual([]);
  });

  it("another address's waiting sessions are untouched by one address's flood", () => {
    const s = resumeSetup({ maxWaitingPerAddress: 2 });
    const other = s.open({}, undefined, "10.0.0.1");
    other.lose();
    for (let i = 0; i < 50; i++) s.open({}, undefined, "10.0.0.9").lose();
    expect(s.core.stats().sessions).toMatchObject({ detached: 3, evicted: 48 });
    expect(s.open({ token: other.token }, undefined, "10.0.0.1").welcome.resumed).toEqual({
      ack: 0,
    });
  });
});

describe("resume: waiting sessions per client (clientOf)", () => {
  it("past maxWaitingPerClient that client's oldest waiter is evicted, whatever its address", () => {
    const s = resumeSetup<{ user: string }>({
      maxWaitingPerClient: 2,
      clientOf: (auth) => auth.user,
    });
    for (let i = 0; i < 3; i++) s.open({}, { user: "mallory" }, `10.0.${i}.1`).lose();
    s.open({}, { user: "alice" }, "10.0.0.1").lose();
    expect(s.sessionEnds.map((e) => [e.sessionId, e.reason, e.auth])).toEqual([
      ["s1", "evicted", { user: "mallory" }],
    ]);
  });
});

describe("resume: a full table", () => {
  it("gives way by the rule: unauthenticated first, then one that never exchanged a message, then the oldest", () => {
    const s = resumeSetup<{ user: string } | undefined>({ maxSessions: 4 });
    // s1: authenticated, silent; s2: unauthenticated, exchanged; s3: unauthenticated, silent; s4: the same, later.
    s.open({}, { user: "ada" }).lose();
    const talker = s.open({});
    talker.send(1, "hello");
    talker.lose();
    s.open({}).lose();
    s.open({}).lose();
    s.open({});
    s.open({});
    s.open({});
    expect(s.sessionEnds.map((e) => `${e.sessionId}:${e.reason}`)).toEqual([
      "s3:evicted",
      "s4:evicted",
      "s2:evicted",
    ]);
    s.open({});
    expect(s.sessionEnds.map((e) => e.sessionId)).toEqual(["s3", "s4", "s2", "s1"]);
    expect(s.core.stats().sessions).toMatchObject({ live: 4, detached: 0, evicted: 4 });
  });

  it("full of live sessions: a new one is plain v1, counted as refused", () => {
    const s = resumeSetup({ maxSessions: 2 });
    s.open({});
    s.open({});
    expect(s.open({}).welcome.resume).toBeUndefined();
    expect(s.core.stats().sessions).toMatchObject({ live: 2, refused: 1, evicted: 0 });
    expect(s.sessionEnds).toEqual([]);
  });

  it("checks the new bounds as options", () => {
    expect(() => resumeSetup({ maxWaitingPerAddress: 0 })).toThrow(
      expect.objectContaining({
        code: "invalid_option",
        message: expect.stringContaining("maxWaitingPerAddress"),
      }),
    );
    expect(() => resumeSetup({ clientOf: "user" as never })).toThrow(
      expect.objectContaining({
        code: "invalid_option",
        message: expect.stringContaining("clientOf"),
      }),
    );
  });
});

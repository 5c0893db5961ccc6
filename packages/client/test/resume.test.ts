// Resumable sessions on the client (issue 13): the offers, seq on outbound
// messages, the unacked buffer inside the outbox bound, ack timing at its
// boundary, dedup and gaps, replay, refused resumes, and when to resume.
import { describe, expect, it } from "vitest";
import { fakeClock, microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };
/** The message frame the fake server sends: seq omitted when undefined. */
const msg = (seq: number | undefined, data: unknown) =>
  seq === undefined ? { type: "message", data } : { type: "message", seq, data };

/** A client (reconnecting with a 250 ms first backoff) open on resumable session s_1 with token t1. */
async function resumable(options: Parameters<typeof setup>[0] = {}) {
  const t = setup(options);
  t.client.connect();
  await microtask();
  t.socket.welcomeResumable("t1");
  return t;
}

/** Drops the current socket (1006) and lets the backoff run: a new socket waits for its welcome. */
async function dropAndRetry(t: ReturnType<typeof setup>, code = 1006) {
  t.socket.drop(code);
  await t.fc.tickAsync(t.events.reconnecting.at(-1)!.delayMs);
}

describe("the offers", () => {
  it("offers heartline.resume on a fresh session and the token of the current session after a drop", async () => {
    const t = await resumable();
    expect(t.sockets[0]!.protocols).toEqual(["heartline.v1", "heartline.resume"]);
    await dropAndRetry(t);
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume.t1"]);
    // Each welcome rotates the token; the next offer carries the newest.
    t.socket.welcomeResumable("t2", { resumed: { ack: 0 } });
    await dropAndRetry(t);
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume.t2"]);
  });

  it("resume: false offers plain v1 and ignores resume terms a server sends anyway", async () => {
    const t = setup({ resume: false });
    t.client.connect();
    await microtask();
    expect(t.socket.protocols).toEqual(["heartline.v1"]);
    t.socket.welcomeResumable("t1");
    t.client.send("a");
    expect(t.socket.messages).toEqual([[undefined, "a"]]);
    await dropAndRetry(t);
    expect(t.socket.protocols).toEqual(["heartline.v1"]);
  });

  it("starts fresh after close() and connect(): no token offered", async () => {
    const t = await resumable();
    t.client.close();
    t.client.connect();
    await microtask();
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume"]);
  });
});

describe("outbound seq and the unacked buffer", () => {
  it("numbers messages 1, 2, … and keeps each until the server acks it", async () => {
    const t = await resumable();
    t.client.send("a");
    t.client.send("b");
    t.client.send("c");
    expect(t.socket.sent.filter((s) => s.includes('"message"'))).toEqual([
      '{"type":"message","seq":1,"data":"a"}',
      '{"type":"message","seq":2,"data":"b"}',
      '{"type":"message","seq":3,"data":"c"}',
    ]);
    expect(t.client.stats.unacked).toBe(3);
    t.socket.receive({ type: "ack", seq: 2 });
    expect(t.client.stats.unacked).toBe(1);
    t.socket.receive({ type: "ack", seq: 2 }); // cumulative; a repeat changes nothing
    expect(t.client.stats.unacked).toBe(1);
    t.socket.receive({ type: "ack", seq: 3 });
    expect(t.client.stats.unacked).toBe(0);
    expect(t.events.error).toEqual([]);
  });

  it("reports an ack above the last seq sent, and counts everything as acked", async () => {
    const t = await resumable();
    t.client.send("a");
    t.socket.receive({ type: "ack", seq: 5 });
    expect(t.events.error.map((e) => e.code)).toEqual(["invalid_message"]);
    expect(t.client.stats.unacked).toBe(0);
    expect(t.client.state).toBe("open");
  });

  it("refuses with the data when queued + unacked reach outbox.maxUnackedMessages, never dropping one", async () => {
    const t = await resumable({ outbox: { maxUnackedMessages: 3 } });
    expect([t.client.send("a"), t.client.send("b"), t.client.send("c")]).toEqual([
      true,
      true,
      true,
    ]);
    expect(t.client.send("d")).toBe(false);
    expect(t.events.error.map((e) => [e.code, e.data])).toEqual([["outbox_overflow", "d"]]);
    t.socket.receive({ type: "ack", seq: 1 });
    expect(t.client.send("e")).toBe(true);
    t.socket.receive({ type: "ack", seq: 2 });
    // Two unacked and one queued while reconnecting fill the bound too.
    await dropAndRetry(t);
    expect(t.client.send("f")).toBe(true);
    expect(t.client.stats).toMatchObject({ queued: 1, unacked: 2 });
    expect(t.client.send("g")).toBe(false);
    const refusals = t.events.error.filter((e) => e.code !== "socket_error");
    expect(refusals.map((e) => [e.code, e.data])).toEqual([
      ["outbox_overflow", "d"],
      ["outbox_overflow", "g"],
    ]);
    t.socket.drop();
  });

  it("a plain v1 session keeps nothing: no seq, no acks, no bound on sends while open", async () => {
    const t = setup({ outbox: { maxUnackedMessages: 1 } });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    expect(t.client.send("a")).toBe(true);
    expect(t.client.send("b")).toBe(true);
    t.socket.receive(msg(undefined, "x"));
    t.socket.receive(msg(7, "y")); // a seq from a v1 server is not ours to check
    await t.fc.tickAsync(terms.timeoutMs - 1); // a beat, and no verdict yet
    expect(t.socket.pings).toEqual([0]);
    expect(t.socket.messages).toEqual([
      [undefined, "a"],
      [undefined, "b"],
    ]);
    expect(t.socket.acks).toEqual([]);
    expect(t.events.message).toEqual(["x", "y"]);
    expect(t.client.stats.unacked).toBe(0);
    t.socket.receive({ type: "ack", seq: 1 }); // ignored on a plain session
    expect(t.events.error).toEqual([]);
  });
});

describe("acks for server messages", () => {
  it("acks with the next beat: at intervalMs after a message that arrived with the welcome, not at intervalMs − 1", async () => {
    const t = await resumable();
    t.socket.receive(msg(1, "x"));
    await t.fc.tickAsync(terms.intervalMs - 1);
    expect(t.socket.acks).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.socket.acks).toEqual([1]);
    // The ack goes before that beat's ping.
    expect(t.socket.frames.map((f) => f.type)).toEqual(["ack", "ping"]);
    // Nothing new, nothing sent at the next beat.
    t.socket.pong(0);
    await t.fc.tickAsync(terms.intervalMs);
    expect(t.socket.pings).toEqual([0, 1]);
    expect(t.socket.acks).toEqual([1]);
  });

  it("a message that arrives mid-interval is acked at the next beat, within one interval", async () => {
    const t = await resumable();
    await t.fc.tickAsync(600);
    t.socket.receive(msg(1, "x"));
    t.socket.receive(msg(2, "y"));
    await t.fc.tickAsync(399);
    expect(t.socket.acks).toEqual([]);
    await t.fc.tickAsync(1); // 400 ms after the messages, at the beat
    expect(t.socket.acks).toEqual([2]);
  });

  it("acks at once when 32 received messages are unacknowledged, not at 31", async () => {
    const t = await resumable();
    for (let seq = 1; seq <= 31; seq++) t.socket.receive(msg(seq, seq));
    expect(t.socket.acks).toEqual([]);
    t.socket.receive(msg(32, 32));
    expect(t.socket.acks).toEqual([32]);
    for (let seq = 33; seq <= 63; seq++) t.socket.receive(msg(seq, seq));
    expect(t.socket.acks).toEqual([32]);
    t.socket.receive(msg(64, 64));
    expect(t.socket.acks).toEqual([32, 64]);
    expect(t.events.message).toHaveLength(64);
  });

  it("arms no timer per message: 100 messages in an interval add no timer, and one ack rides on the beat", async () => {
    const { fc, clock } = fakeClock();
    let timers = 0;
    const counting = {
      ...clock,
      setTimeout(callback: () => void, ms: number) {
        timers++;
        return clock.setTimeout(callback, ms);
      },
    };
    const t = setup({ clock: counting, outbox: { maxUnackedMessages: 1000 } });
    t.client.connect();
    await microtask();
    t.socket.welcomeResumable("t1");
    await fc.tickAsync(10);
    const before = timers;
    for (let seq = 1; seq <= 100; seq++) t.socket.receive(msg(seq, seq));
    for (let i = 0; i < 100; i++) t.client.send(i);
    t.socket.receive({ type: "ack", seq: 100 });
    expect(timers).toBe(before);
    // 32, 64, 96 at once; 100 rode ahead of the first send; the beat then owes nothing.
    expect(t.socket.acks).toEqual([32, 64, 96, 100]);
    await fc.tickAsync(terms.intervalMs - 10);
    expect(t.socket.acks).toEqual([32, 64, 96, 100]);
  });

  it("acks at once what is due when the heartbeat is paused (its beat is cancelled)", async () => {
    const t = await resumable();
    await t.fc.tickAsync(500);
    t.socket.receive(msg(1, "x"));
    t.client.heartbeat.pause();
    expect(t.socket.acks).toEqual([1]);
    await t.fc.tickAsync(5000);
    expect(t.socket.acks).toEqual([1]);
  });

  it("keeps acking within one interval while the heartbeat is paused", async () => {
    const t = await resumable();
    t.client.heartbeat.pause();
    await t.fc.tickAsync(5000);
    t.socket.receive(msg(1, "x"));
    await t.fc.tickAsync(terms.intervalMs - 1);
    expect(t.socket.acks).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.socket.acks).toEqual([1]);
    expect(t.socket.pings).toEqual([]);
  });
});

describe("inbound order", () => {
  it("drops a duplicate and acks again", async () => {
    const t = await resumable();
    t.socket.receive(msg(1, "a"));
    t.socket.receive(msg(2, "b"));
    await t.fc.tickAsync(terms.intervalMs);
    expect(t.socket.acks).toEqual([2]);
    t.socket.receive(msg(2, "b")); // the server missed our ack
    t.socket.receive(msg(1, "a"));
    expect(t.events.message).toEqual(["a", "b"]);
    await t.fc.tickAsync(terms.intervalMs);
    expect(t.socket.acks).toEqual([2, 2]);
  });

  it.each([
    ["a gap", msg(4, "d")],
    ["a missing seq", msg(undefined, "c")],
  ])("treats %s as a protocol error: error, drop the connection, resume", async (_, frame) => {
    const t = await resumable();
    t.socket.receive(msg(1, "a"));
    t.socket.receive(msg(2, "b"));
    const first = t.socket;
    first.receive(frame);
    expect(t.events.message).toEqual(["a", "b"]);
    expect(t.events.error.map((e) => e.code)).toEqual(["invalid_message"]);
    expect(first.closedWith?.code).toBe(4400);
    expect(t.events.disconnect).toEqual([
      { reason: "protocol_error", willReconnect: true, willResume: true, delayMs: 250 },
    ]);
    first.drop(); // the socket's own close event afterwards is not a second report
    expect(t.events.disconnect).toHaveLength(1);
    await t.fc.tickAsync(250);
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume.t1"]);
    // The server replays what it holds; the client delivers from seq 3 on.
    t.socket.welcomeResumable("t2", { resumed: { ack: 0 } });
    t.socket.receive(msg(2, "b"));
    t.socket.receive(msg(3, "c"));
    expect(t.events.message).toEqual(["a", "b", "c"]);
  });
});

describe("replay after a resumed welcome", () => {
  it("sends again what the server lacks (seq > resumed.ack), in order, before the outbox and anything new", async () => {
    const t = await resumable();
    t.client.on("open", () => t.client.send("from open"));
    for (const data of ["a", "b", "c", "d"]) t.client.send(data);
    t.socket.receive({ type: "ack", seq: 1 });
    await t.fc.tickAsync(700);
    await dropAndRetry(t);
    t.client.send("queued");
    t.socket.welcomeResumable("t2", { resumed: { ack: 2 } });
    expect(t.socket.messages).toEqual([
      [3, "c"],
      [4, "d"],
      [5, "queued"],
      [6, "from open"],
    ]);
    expect(t.client.sessionId).toBe("s_1");
    expect(t.events.open.at(-1)).toEqual({ sessionId: "s_1", heartbeat: terms, resumed: true });
    // The gap the user lived through: from the last frame heard (the ack, at 0) to this welcome.
    expect(t.events.resumed).toEqual([{ sessionId: "s_1", gapMs: 950, replayed: 2 }]);
    expect(t.log.slice(-3)).toEqual(["state", "open", "resumed"]);
    expect(t.client.stats.unacked).toBe(4);
    expect(t.events.undelivered).toEqual([]);
  });

  it("delivers the server's replay once: duplicates dropped and acked, new ones delivered", async () => {
    const t = await resumable();
    t.socket.receive(msg(1, "a"));
    t.socket.receive(msg(2, "b"));
    await dropAndRetry(t);
    t.socket.welcomeResumable("t2", { resumed: { ack: 0 } });
    for (const [seq, data] of [
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ] as const) {
      t.socket.receive(msg(seq, data));
    }
    expect(t.events.message).toEqual(["a", "b", "c"]);
    await t.fc.tickAsync(terms.intervalMs);
    expect(t.socket.acks).toEqual([3]);
  });
});

describe("a refused resume", () => {
  it("reports every unacked message with its data and starts over under the new session id", async () => {
    const t = await resumable();
    for (const data of ["a", { b: 2 }, "c"]) t.client.send(data);
    t.socket.receive({ type: "ack", seq: 1 });
    t.socket.receive(msg(1, "x"));
    await dropAndRetry(t);
    t.client.send("queued");
    t.socket.welcomeResumable("t9", { sessionId: "s_2", resumeFailed: "expired" });
    expect(t.events.undelivered).toEqual([
      { reason: "resume_failed", resumeFailed: "expired", messages: [{ b: 2 }, "c"] },
    ]);
    expect(t.client.sessionId).toBe("s_2");
    expect(t.events.open.at(-1)).toMatchObject({ sessionId: "s_2", resumed: false });
    expect(t.events.resumed).toEqual([]);
    // Both directions count from 1 again on the new session.
    t.client.send("new");
    expect(t.socket.messages).toEqual([
      [1, "queued"],
      [2, "new"],
    ]);
    t.socket.receive(msg(1, "y"));
    expect(t.events.message).toEqual(["x", "y"]);
    expect(t.client.stats.unacked).toBe(2);
  });

  it("a message sent from the undelivered listener goes after the outbox, on the new session", async () => {
    const t = await resumable();
    t.client.send("a");
    await dropAndRetry(t);
    t.client.send("queued");
    t.client.on("undelivered", ({ messages }) => {
      for (const data of messages) t.client.send(data);
    });
    t.socket.welcomeResumable("t9", { sessionId: "s_2", resumeFailed: "unknown" });
    expect(t.socket.messages).toEqual([
      [1, "queued"],
      [2, "a"],
    ]);
    expect(t.log.slice(-3)).toEqual(["state", "undelivered", "open"]);
  });

  it("a plain v1 welcome after a token offer: unacked reported, the new session sends no seq", async () => {
    const t = await resumable();
    t.client.send("a");
    await dropAndRetry(t);
    t.socket.welcome(terms, "s_2");
    expect(t.events.undelivered).toEqual([{ reason: "resume_failed", messages: ["a"] }]);
    t.client.send("b");
    expect(t.socket.messages).toEqual([[undefined, "b"]]);
    expect(t.client.stats.unacked).toBe(0);
  });
});

describe("when to resume", () => {
  it.each([
    ["its own silence timeout", 4000, "timeout"],
    ["a lost connection", 1006, "connection_lost"],
    ["the server's 4000", 4000, "timeout"],
  ] as const)("after %s", async (how, code, reason) => {
    const t = await resumable();
    t.client.send("a");
    if (how === "its own silence timeout") await t.fc.tickAsync(terms.timeoutMs);
    else t.socket.drop(code);
    expect(t.events.disconnect).toEqual([
      expect.objectContaining({ reason, code, willReconnect: true, willResume: true }),
    ]);
    await t.fc.tickAsync(250);
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume.t1"]);
    t.socket.welcomeResumable("t2", { resumed: { ack: 1 } });
    expect(t.events.resumed).toHaveLength(1);
    expect(t.events.undelivered).toEqual([]);
    expect(t.client.stats.unacked).toBe(0);
  });

  it("after a goodbye and 1001, inside the announced window", async () => {
    const t = await resumable();
    t.socket.receive({ type: "goodbye", reconnect: { minMs: 1000, maxMs: 3000 } });
    t.socket.drop(1001);
    expect(t.events.disconnect).toEqual([
      { reason: "server_closed", code: 1001, willReconnect: true, willResume: true, delayMs: 2000 },
    ]);
    await t.fc.tickAsync(2000);
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume.t1"]);
  });

  it("never after 4409: closed, and what is unacked is reported as undelivered", async () => {
    const t = await resumable();
    t.client.send("a");
    t.socket.drop(4409);
    expect(t.events.disconnect).toEqual([
      { reason: "replaced", code: 4409, willReconnect: false, willResume: false },
    ]);
    expect(t.client.state).toBe("closed");
    expect(t.events.undelivered).toEqual([{ reason: "closed", messages: ["a"] }]);
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(1);
  });

  it("reports exactly one disconnect per attempt across drops, failed attempts and resumes", async () => {
    const t = await resumable();
    await dropAndRetry(t); // attempt 2 fails before its welcome
    await dropAndRetry(t);
    t.socket.welcomeResumable("t2", { resumed: { ack: 0 } });
    await t.fc.tickAsync(terms.timeoutMs); // the client's own verdict
    await t.fc.tickAsync(t.events.reconnecting.at(-1)!.delayMs);
    t.socket.welcomeResumable("t3", { resumed: { ack: 0 } });
    t.client.close();
    expect(t.sockets).toHaveLength(4);
    expect(t.events.disconnect.map((d) => [d.reason, d.willResume])).toEqual([
      ["connection_lost", true],
      ["connection_lost", true],
      ["timeout", true],
      ["client_closed", false],
    ]);
    // From the last frame heard on the last open connection, across the failed attempt
    // (250 + 500 ms); then the silent timeoutMs before the verdict plus one 1000 ms backoff.
    expect(t.events.resumed.map((r) => r.gapMs)).toEqual([750, 3000]);
  });
});

describe("a deliberate close()", () => {
  it("reports unacked then queued messages as undelivered (reason closed); queued ones also as outbox_discarded (deprecated)", async () => {
    const t = await resumable();
    t.client.send("a");
    t.client.send("b");
    t.socket.receive({ type: "ack", seq: 1 });
    await dropAndRetry(t);
    t.client.send("queued");
    t.client.close();
    expect(t.events.undelivered).toEqual([{ reason: "closed", messages: ["b", "queued"] }]);
    expect(
      t.events.error.filter((e) => e.code !== "socket_error").map((e) => [e.code, e.data]),
    ).toEqual([["outbox_discarded", "queued"]]);
    expect(t.client.stats).toMatchObject({ queued: 0, unacked: 0 });
  });

  it("giving up after maxAttempts reports them too, and a later connect() starts a new session from seq 1", async () => {
    const t = setup({ reconnect: { maxAttempts: 1 } });
    t.client.connect();
    await microtask();
    t.socket.welcomeResumable("t1");
    t.client.send("a");
    await dropAndRetry(t);
    t.socket.drop(); // the one retry fails: give up
    expect(t.client.state).toBe("closed");
    expect(t.events.disconnect.map((d) => [d.willReconnect, d.willResume])).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(t.events.undelivered).toEqual([{ reason: "closed", messages: ["a"] }]);
    t.client.connect();
    await microtask();
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume"]);
    t.socket.welcomeResumable("t5", { sessionId: "s_2" });
    t.client.send("b");
    expect(t.socket.messages).toEqual([[1, "b"]]);
    expect(t.events.undelivered).toHaveLength(1);
  });

  it("with nothing unacked reports nothing", async () => {
    const t = await resumable();
    t.client.send("a");
    t.socket.receive({ type: "ack", seq: 1 });
    t.client.close();
    expect(t.events.undelivered).toEqual([]);
  });
});

// The figures an app can report (issue 16, point 2): missed beats, reconnect
// attempts (streak and total), and how long detecting a dead server took.
// All on fake time, at their exact boundaries.
import { describe, expect, it } from "vitest";
import { microtask, opened as openedOn, setup } from "./support/fakes.js";

// A long timeout, so unanswered pings do not end the connection first.
const terms = { intervalMs: 1000, timeoutMs: 5000 };
const opened = () => openedOn(terms);

describe("missed beats", () => {
  it("are 0 while every ping gets its pong", async () => {
    const t = await opened();
    for (let i = 0; i < 5; i++) {
      await t.fc.tickAsync(1000);
      t.socket.pong(i);
    }
    expect(t.client.stats).toMatchObject({ pingsSent: 5, missedBeats: 0 });
  });

  it("count a ping with no pong when the next ping goes out, not a millisecond before", async () => {
    const t = await opened();
    await t.fc.tickAsync(1000); // ping 0
    await t.fc.tickAsync(999);
    expect(t.client.stats.missedBeats).toBe(0);
    await t.fc.tickAsync(1); // ping 1
    expect(t.socket.pings).toEqual([0, 1]);
    expect(t.client.stats.missedBeats).toBe(1);
    await t.fc.tickAsync(1000); // ping 2
    expect(t.client.stats.missedBeats).toBe(2);
  });

  it("take a pong 1 ms before the next ping as in time; after it, as late (still an RTT sample)", async () => {
    const t = await opened();
    await t.fc.tickAsync(1000); // ping 0 at 1000
    await t.fc.tickAsync(999);
    t.socket.pong(0); // at 1999: in time, and re-arms ping 1 for 2000
    await t.fc.tickAsync(1); // ping 1 at 2000
    expect(t.client.stats.missedBeats).toBe(0);
    await t.fc.tickAsync(1000); // ping 2 at 3000, ping 1 unanswered
    t.socket.pong(1); // late
    expect(t.events.pong.at(-1)).toEqual({ seq: 1, rttMs: 1000 });
    expect(t.client.stats.missedBeats).toBe(1);
    // The late pong answers ping 1, not ping 2: that one is missed at ping 3.
    await t.fc.tickAsync(1000);
    expect(t.socket.pings).toEqual([0, 1, 2, 3]);
    expect(t.client.stats.missedBeats).toBe(2);
    t.socket.pong(3); // in time
    await t.fc.tickAsync(1000);
    expect(t.client.stats.missedBeats).toBe(2);
  });

  it("count the last ping when its connection ends before the pong", async () => {
    const t = await opened();
    await t.fc.tickAsync(1000);
    t.socket.drop();
    expect(t.client.stats.missedBeats).toBe(1);

    const u = await opened();
    await u.fc.tickAsync(1000);
    u.socket.pong(0);
    u.socket.drop();
    expect(u.client.stats.missedBeats).toBe(0);
  });

  it("count each beat of a silent server once, the last one at the timeout", async () => {
    const t = await opened();
    await t.fc.tickAsync(4999); // pings 0..3 at 1000..4000
    expect(t.client.stats.missedBeats).toBe(3);
    await t.fc.tickAsync(1); // silence verdict at 5000, before ping 4
    expect(t.events.disconnect.map((d) => d.reason)).toEqual(["timeout"]);
    expect(t.client.stats).toMatchObject({ pingsSent: 4, missedBeats: 4 });
  });

  it("add up across reconnects", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    await t.fc.tickAsync(1000);
    t.socket.drop(); // ping 0 missed
    await t.fc.tickAsync(250);
    t.socket.welcome(terms);
    await t.fc.tickAsync(2000); // ping 0 of the new connection missed at its ping 1
    expect(t.client.stats.missedBeats).toBe(2);
  });
});

describe("reconnect attempts", () => {
  it("count the streak and the total; a stable connection ends the streak, not the total", async () => {
    const t = setup({ reconnect: { stableAfterMs: 3000 } });
    t.client.connect();
    await microtask();
    expect(t.client.stats).toMatchObject({ reconnectAttempt: 0, reconnectAttemptsTotal: 0 });
    t.socket.drop();
    await t.fc.tickAsync(250); // attempt 1
    t.socket.drop();
    await t.fc.tickAsync(500); // attempt 2
    expect(t.client.stats).toMatchObject({ reconnectAttempt: 2, reconnectAttemptsTotal: 2 });
    t.socket.welcome({ intervalMs: 1000, timeoutMs: 60_000 });
    await t.fc.tickAsync(2999);
    expect(t.client.stats.reconnectAttempt).toBe(2);
    await t.fc.tickAsync(1); // open stableAfterMs
    expect(t.client.stats).toMatchObject({ reconnectAttempt: 0, reconnectAttemptsTotal: 2 });
    t.socket.drop();
    await t.fc.tickAsync(250);
    expect(t.client.stats).toMatchObject({ reconnectAttempt: 1, reconnectAttemptsTotal: 3 });
  });

  it("connect() after close() starts a new streak; the total goes on", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.drop();
    await t.fc.tickAsync(250);
    t.client.close();
    t.client.connect();
    await microtask();
    expect(t.client.stats).toMatchObject({ reconnectAttempt: 0, reconnectAttemptsTotal: 1 });
  });

  it("count an attempt started early by `online`", async () => {
    const target = new EventTarget();
    const globals = globalThis as { window?: unknown };
    const saved = globals.window;
    globals.window = target;
    try {
      const t = setup();
      t.client.connect();
      await microtask();
      t.socket.drop();
      target.dispatchEvent(new Event("online"));
      await microtask();
      expect(t.sockets).toHaveLength(2);
      expect(t.client.stats).toMatchObject({ reconnectAttempt: 1, reconnectAttemptsTotal: 1 });
    } finally {
      globals.window = saved;
    }
  });
});

describe("time to detect a dead server", () => {
  it("is measured from the last frame heard to the verdict", async () => {
    const t = await opened();
    await t.fc.tickAsync(1500);
    t.socket.receive({ type: "message", data: "last words" });
    await t.fc.tickAsync(4999);
    expect(t.events.disconnect).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.events.disconnect).toEqual([
      {
        reason: "timeout",
        code: 4000,
        willReconnect: false,
        willResume: false,
        detectedAfterMs: 5000,
      },
    ]);
  });

  it("is measured from resume() after a pause, when the watch restarted", async () => {
    const t = await opened();
    t.client.heartbeat.pause();
    await t.fc.tickAsync(10_000);
    t.client.heartbeat.resume();
    await t.fc.tickAsync(5000);
    expect(t.events.disconnect[0]?.detectedAfterMs).toBe(5000);
  });

  it("is absent when the client did not detect it: the server's 4000, a drop, a connect timeout, close()", async () => {
    const server4000 = await opened();
    server4000.socket.drop(4000);
    const lost = await opened();
    lost.socket.drop();
    const noWelcome = setup({ reconnect: false, connectTimeoutMs: 3000 });
    noWelcome.client.connect();
    await microtask();
    await noWelcome.fc.tickAsync(3000);
    const closed = await opened();
    closed.client.close();
    const reports = [server4000, lost, noWelcome, closed].map((t) => t.events.disconnect);
    expect(reports.map((r) => r.map((d) => d.reason))).toEqual([
      ["timeout"],
      ["connection_lost"],
      ["timeout"],
      ["client_closed"],
    ]);
    for (const r of reports) expect(r[0]).not.toHaveProperty("detectedAfterMs");
  });
});

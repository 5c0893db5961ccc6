// The heartbeat at its exact boundaries: ping cadence from welcome, RTT, and
// the client's own verdict after timeoutMs of silence.
import { describe, expect, it } from "vitest";
import { microtask, opened as openedOn, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };
const opened = () => openedOn(terms);

describe("ping cadence", () => {
  it("offers heartline.v1 (and heartline.resume) and sends nothing before welcome", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume"]);
    t.socket.open();
    await t.fc.tickAsync(5000);
    expect(t.socket.sent).toEqual([]);
  });

  it("sends ping 0 exactly intervalMs after welcome, not a millisecond before", async () => {
    const t = await opened();
    await t.fc.tickAsync(999);
    expect(t.socket.pings).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.socket.pings).toEqual([0]);
  });

  it("keeps pinging every intervalMs with increasing seq while pongs arrive", async () => {
    const t = await opened();
    for (let i = 0; i < 5; i++) {
      await t.fc.tickAsync(1000);
      t.socket.pong(i);
    }
    expect(t.socket.pings).toEqual([0, 1, 2, 3, 4]);
  });

  it("re-arms the next ping from the pong, keeping the cadence from the previous ping", async () => {
    const t = await opened();
    await t.fc.tickAsync(1000); // ping 0 at 1000
    await t.fc.tickAsync(300);
    t.socket.pong(0); // re-armed here, at 1300, for 2000
    await t.fc.tickAsync(699);
    expect(t.socket.pings).toEqual([0]);
    await t.fc.tickAsync(1);
    expect(t.socket.pings).toEqual([0, 1]);
  });

  it("uses the terms from welcome, not its own guess", async () => {
    const t = setup({ reconnect: false });
    t.client.connect();
    await microtask();
    t.socket.welcome({ intervalMs: 250, timeoutMs: 10_000 });
    await t.fc.tickAsync(1000);
    expect(t.socket.pings).toEqual([0, 1, 2, 3]);
    expect(t.client.heartbeat.terms).toEqual({ intervalMs: 250, timeoutMs: 10_000 });
    expect(t.events.open).toEqual([
      { sessionId: "s_1", heartbeat: { intervalMs: 250, timeoutMs: 10_000 }, resumed: false },
    ]);
  });

  it("counts pings and the time the server last spoke", async () => {
    const t = await opened();
    await t.fc.tickAsync(1000);
    t.socket.pong(0);
    await t.fc.tickAsync(1000);
    expect(t.client.stats).toMatchObject({
      pingsSent: 2,
      pongsReceived: 1,
      lastHeardAt: 1000,
      lastPingAt: 2000,
    });
  });
});

describe("round-trip time", () => {
  it("measures each pong against its own ping, latest and smoothed (α = 1/8)", async () => {
    const t = await opened();
    expect(t.client.rtt).toEqual({ latestMs: undefined, smoothedMs: undefined });
    await t.fc.tickAsync(1000);
    await t.fc.tickAsync(40);
    t.socket.pong(0);
    expect(t.events.pong).toEqual([{ seq: 0, rttMs: 40 }]);
    expect(t.client.rtt).toEqual({ latestMs: 40, smoothedMs: 40 });
    await t.fc.tickAsync(960); // ping 1 at 2000
    await t.fc.tickAsync(120);
    t.socket.pong(1);
    expect(t.events.pong.at(-1)).toEqual({ seq: 1, rttMs: 120 });
    expect(t.client.rtt).toEqual({ latestMs: 120, smoothedMs: 50 });
  });

  it("ignores a pong for a seq it never sent", async () => {
    const t = await opened();
    await t.fc.tickAsync(1000);
    t.socket.pong(77);
    expect(t.events.pong).toEqual([]);
    expect(t.client.rtt.latestMs).toBeUndefined();
  });
});

describe("the client's silence timeout", () => {
  it("is alive at timeoutMs − 1 and gone at exactly timeoutMs of silence", async () => {
    const t = await opened();
    const socket = t.socket;
    await t.fc.tickAsync(1999);
    expect(t.client.state).toBe("open");
    expect(t.events.disconnect).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.events.disconnect).toEqual([
      {
        reason: "timeout",
        code: 4000,
        willReconnect: false,
        willResume: false,
        detectedAfterMs: 2000,
      },
    ]);
    expect(socket.closedWith?.code).toBe(4000);
    expect(socket.terminated).toBe(true);
    expect(t.client.state).toBe("closed");
  });

  it("counts from the last frame of any kind", async () => {
    const t = await opened();
    await t.fc.tickAsync(1500);
    t.socket.receive({ type: "message", data: "still here" });
    await t.fc.tickAsync(1999);
    expect(t.events.disconnect).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.events.disconnect.map((d) => d.reason)).toEqual(["timeout"]);
  });

  it("even a frame it cannot decode proves the server alive", async () => {
    const t = await opened();
    await t.fc.tickAsync(1500);
    t.socket.receive("not json");
    await t.fc.tickAsync(1999);
    expect(t.events.disconnect).toEqual([]);
  });

  it("reconnects after its own timeout when reconnecting is on", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    await t.fc.tickAsync(2000);
    expect(t.events.disconnect).toEqual([
      {
        reason: "timeout",
        code: 4000,
        willReconnect: true,
        willResume: false,
        delayMs: 250,
        detectedAfterMs: 2000,
      },
    ]);
    expect(t.client.state).toBe("reconnecting");
    await t.fc.tickAsync(250);
    expect(t.sockets).toHaveLength(2);
  });
});

describe("pausing the heartbeat", () => {
  it("stops pings and the client's own verdict, so the server's 4000 is what ends it", async () => {
    const t = await opened();
    t.client.heartbeat.pause();
    expect(t.client.heartbeat.paused).toBe(true);
    await t.fc.tickAsync(10_000);
    expect(t.socket.pings).toEqual([]);
    expect(t.events.disconnect).toEqual([]);
    t.socket.drop(4000);
    expect(t.events.disconnect).toEqual([
      { reason: "timeout", code: 4000, willReconnect: false, willResume: false },
    ]);
  });

  it("resume pings at once and restarts the silence deadline from then", async () => {
    const t = await opened();
    t.client.heartbeat.pause();
    await t.fc.tickAsync(5000);
    t.client.heartbeat.resume();
    expect(t.socket.pings).toEqual([0]);
    await t.fc.tickAsync(1000);
    expect(t.socket.pings).toEqual([0, 1]);
    await t.fc.tickAsync(999);
    expect(t.client.state).toBe("open");
    await t.fc.tickAsync(1);
    expect(t.events.disconnect.map((d) => d.reason)).toEqual(["timeout"]);
  });

  it("stays paused across a reconnect", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.heartbeat.pause();
    t.socket.drop(4000);
    await t.fc.tickAsync(250);
    t.socket.welcome(terms);
    await t.fc.tickAsync(5000);
    expect(t.socket.pings).toEqual([]);
  });
});

// Pacing within the server's announced rate terms (welcome.rate, issue 21
// point 2): half the server's burst, its sustained rate, a token kept for
// the ping, the held-back frames in the bounded outbox, one flush timer, and
// after a 4429 the session is known to be over.
import { describe, expect, it } from "vitest";
import { type FakeSocket, microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };

/** Records when each frame left (fake time), to replay them through the server's own bucket. */
function timed(t: ReturnType<typeof setup>): number[] {
  const times: number[] = [];
  const socket = t.socket;
  const send = socket.send.bind(socket);
  socket.send = (text: string) => {
    send(text);
    times.push(t.fc.now);
  };
  return times;
}

/** Welcomes with `rate` (and resume terms with `token`, when given). */
function welcome(
  socket: FakeSocket,
  rate: { perSecond: number; burst: number } | undefined,
  extra: Record<string, unknown> = {},
): void {
  socket.open();
  socket.receive({
    type: "welcome",
    protocol: 1,
    sessionId: "s_1",
    heartbeat: terms,
    rate,
    ...extra,
  });
}

/**
 * The server's frame budget as the server keeps it (packages/server
 * rate-limit.ts): full at the connection's start, refilled between arrivals.
 * The lowest level it reaches; below 0 the server would have closed 4429.
 */
function lowestServerTokens(times: number[], rate: { perSecond: number; burst: number }): number {
  let tokens = rate.burst;
  let lowest = tokens;
  let previous = times[0] ?? 0;
  for (const at of times) {
    tokens = Math.min(rate.burst, tokens + ((at - previous) * rate.perSecond) / 1000) - 1;
    previous = at;
    lowest = Math.min(lowest, tokens);
  }
  return lowest;
}

/**
 * Advances `ms` in 100 ms steps while the fake server stays alive: it
 * answers each ping and, on a resumable session, acks what arrived.
 */
async function live(t: ReturnType<typeof setup>, ms: number, ack = false): Promise<void> {
  const socket = t.socket;
  let answered = -1;
  for (let step = 0; step < ms; step += 100) {
    await t.fc.tickAsync(Math.min(100, ms - step));
    const ping = socket.pings.at(-1);
    if (ping !== undefined && ping > answered) {
      answered = ping;
      socket.pong(ping);
    }
    const last = socket.messages.at(-1)?.[0];
    if (ack && last !== undefined) socket.receive({ type: "ack", seq: last });
  }
}

describe("pacing to welcome.rate", () => {
  it("sends half the burst less the ping's token at once, then one message per 1/perSecond, exactly at its boundary", async () => {
    const t = setup({ reconnect: false, resume: false });
    t.client.connect();
    await microtask();
    welcome(t.socket, { perSecond: 10, burst: 10 });
    for (let i = 0; i < 8; i++) expect(t.client.send(i)).toBe(true);
    // Bucket 5 (half of 10), one kept for the ping: 4 go now, 4 are held.
    expect(t.socket.messages.map(([, d]) => d)).toEqual([0, 1, 2, 3]);
    expect(t.client.stats.queued).toBe(4);
    // The next token (reserve + 1 = 2) comes 100 ms later (10 per second).
    await t.fc.tickAsync(99);
    expect(t.socket.messages).toHaveLength(4);
    await t.fc.tickAsync(1);
    expect(t.socket.messages).toHaveLength(5);
    await t.fc.tickAsync(300);
    expect(t.socket.messages.map(([, d]) => d)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(t.client.stats.queued).toBe(0);
    expect(t.events.error).toEqual([]);
  });

  it("tells the application the terms: the open event carries rate (and none without a limit)", async () => {
    const t = setup({ reconnect: false, resume: false });
    t.client.connect();
    await microtask();
    welcome(t.socket, { perSecond: 10, burst: 10 });
    expect(t.events.open.at(-1)).toMatchObject({ rate: { perSecond: 10, burst: 10 } });
    const u = setup({ reconnect: false, resume: false });
    u.client.connect();
    await microtask();
    welcome(u.socket, undefined);
    expect(u.events.open.at(-1)).not.toHaveProperty("rate");
  });

  it("tells snapshot subscribers when a held message leaves on the flush timer", async () => {
    const t = setup({ reconnect: false, resume: false });
    t.client.connect();
    await microtask();
    welcome(t.socket, { perSecond: 10, burst: 4 });
    for (let i = 0; i < 3; i++) t.client.send(i);
    // A bucket of 2, one kept for the ping: one message now, two held.
    expect(t.client.getSnapshot().queued).toBe(2);
    const queued: number[] = [];
    t.client.subscribe(() => queued.push(t.client.getSnapshot().queued));
    await t.fc.tickAsync(100);
    expect(queued).toEqual([1]);
    await t.fc.tickAsync(100);
    expect(queued).toEqual([1, 0]);
  });

  it("with no rate in the welcome, sends everything at once (a server without a limit)", async () => {
    const t = setup({ reconnect: false, resume: false, outbox: { maxMessages: 0 } });
    t.client.connect();
    await microtask();
    welcome(t.socket, undefined);
    for (let i = 0; i < 300; i++) expect(t.client.send(i)).toBe(true);
    expect(t.socket.messages).toHaveLength(300);
  });

  it("keeps the ping on time while messages take every other token", async () => {
    const t = setup({ reconnect: false, resume: false, outbox: { maxMessages: 1000 } });
    t.client.connect();
    await microtask();
    // 4.5 per second: a token every 222.2 ms, so the beat falls between two.
    welcome(t.socket, { perSecond: 4.5, burst: 10 });
    const times = timed(t);
    for (let i = 0; i < 600; i++) t.client.send(i);
    // The first beat is due at intervalMs: not one ms later.
    await t.fc.tickAsync(terms.intervalMs - 1);
    expect(t.socket.pings).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.socket.pings).toEqual([0]);
    t.socket.pong(0);
    await t.fc.tickAsync(terms.intervalMs);
    expect(t.socket.pings).toEqual([0, 1]);
    // Messages still flow, and never faster than the server allows.
    expect(t.socket.messages.length).toBeGreaterThan(10);
    expect(lowestServerTokens(times, { perSecond: 4.5, burst: 10 })).toBeGreaterThanOrEqual(0);
  });

  it("flushes the outbox at the welcome within the pace, and its overflow is refused and reported", async () => {
    const t = setup({ reconnect: false, resume: false });
    t.client.connect();
    await microtask();
    for (let i = 0; i < 100; i++) expect(t.client.send(i)).toBe(true);
    expect(t.client.send(100)).toBe(false);
    expect(t.events.error.map((e) => [e.code, e.data])).toEqual([["outbox_overflow", 100]]);
    const times = timed(t);
    welcome(t.socket, { perSecond: 50, burst: 100 });
    // 49 now (a bucket of 50, one kept for the ping); the rest at 50 per second.
    expect(t.socket.messages).toHaveLength(49);
    // 51 more at one per 20 ms, and the first ping's token at 1,000 ms: 1,040 ms.
    await t.fc.tickAsync(1039);
    expect(t.socket.messages).toHaveLength(99);
    await t.fc.tickAsync(1);
    expect(t.socket.messages).toHaveLength(100);
    expect(lowestServerTokens(times, { perSecond: 50, burst: 100 })).toBeGreaterThanOrEqual(50 - 1);
  });

  it("paces the replay of a resumed session too", async () => {
    const t = setup({ outbox: { maxMessages: 200 } });
    t.client.connect();
    await microtask();
    welcome(t.socket, undefined, { resume: { token: "t1", windowMs: 120_000 } });
    for (let i = 0; i < 150; i++) t.client.send(i);
    expect(t.client.stats.unacked).toBe(150);
    t.socket.drop();
    await t.fc.tickAsync(t.events.reconnecting.at(-1)!.delayMs);
    const times = timed(t);
    welcome(
      t.socket,
      { perSecond: 50, burst: 100 },
      {
        resume: { token: "t2", windowMs: 120_000 },
        resumed: { ack: 0 },
      },
    );
    expect(t.socket.messages).toHaveLength(49);
    await live(t, 3000);
    expect(t.socket.messages.map(([seq]) => seq)).toEqual(
      Array.from({ length: 150 }, (_, i) => i + 1),
    );
    expect(lowestServerTokens(times, { perSecond: 50, burst: 100 })).toBeGreaterThanOrEqual(0);
  });

  it("1,000 quick sends while open: each is sent within the rate or refused with outbox_overflow, none lost", async () => {
    for (const resume of [false, true]) {
      const t = setup({ reconnect: false, resume });
      t.client.connect();
      await microtask();
      welcome(
        t.socket,
        { perSecond: 50, burst: 100 },
        resume ? { resume: { token: "t1", windowMs: 1e5 } } : {},
      );
      const times = timed(t);
      const accepted: number[] = [];
      for (let i = 0; i < 1000; i++) if (t.client.send(i)) accepted.push(i);
      const refused = t.events.error.filter((e) => e.code === "outbox_overflow").map((e) => e.data);
      expect(accepted.length + refused.length).toBe(1000);
      // Acks free the resumable session's room as the server would send them.
      await live(t, 5000, resume);
      expect(t.socket.messages.map(([, d]) => d)).toEqual(accepted);
      expect(lowestServerTokens(times, { perSecond: 50, burst: 100 })).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("after 4429", () => {
  it("reports the unacknowledged as rate_limited, says willResume false, and starts a new session", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    welcome(t.socket, undefined, { resume: { token: "t1", windowMs: 120_000 } });
    t.client.send("a");
    t.client.send("b");
    t.client.send("c");
    t.socket.receive({ type: "ack", seq: 1 });
    t.socket.drop(4429);
    expect(t.events.disconnect).toEqual([
      expect.objectContaining({
        reason: "rate_limited",
        code: 4429,
        willReconnect: true,
        willResume: false,
      }),
    ]);
    expect(t.events.undelivered).toEqual([{ reason: "rate_limited", messages: ["b", "c"] }]);
    // Reported after the disconnect, once.
    expect(t.log.filter((e) => e === "disconnect" || e === "undelivered")).toEqual([
      "disconnect",
      "undelivered",
    ]);
    t.client.send("d");
    await t.fc.tickAsync(t.events.reconnecting.at(-1)!.delayMs);
    // A new session: no token offered, and nothing reported twice when it starts.
    expect(t.socket.protocols).toEqual(["heartline.v1", "heartline.resume"]);
    welcome(t.socket, undefined, { sessionId: "s_2", resume: { token: "t9", windowMs: 120_000 } });
    expect(t.socket.messages).toEqual([[1, "d"]]);
    expect(t.events.undelivered).toHaveLength(1);
  });
});

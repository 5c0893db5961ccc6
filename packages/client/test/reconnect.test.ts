// Reconnecting: the backoff schedule (exact, with a fixed random), the
// stable-connection reset, the goodbye window, and when not to come back.
import { describe, expect, it } from "vitest";
import { fullJitterBackoff, goodbyeDelay } from "../src/index.js";
import { microtask, sequence, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };

describe("backoff as a pure function", () => {
  it("is full jitter: random · min(capMs, baseMs · 2^attempt)", async () => {
    const backoff = fullJitterBackoff(500, 30_000);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoff(n, 0.5))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000,
    ]);
    expect(backoff(3, 0)).toBe(0);
    expect(backoff(3, 0.999)).toBeCloseTo(3996);
    expect(backoff(2000, 0.5)).toBe(15_000); // 2^2000 overflows to Infinity; the cap holds
  });

  it("goodbye delay is uniform inside the window; min > max is read as [max, min]", async () => {
    expect(goodbyeDelay({ minMs: 1000, maxMs: 5000 }, 0)).toBe(1000);
    expect(goodbyeDelay({ minMs: 1000, maxMs: 5000 }, 0.5)).toBe(3000);
    expect(goodbyeDelay({ minMs: 5000, maxMs: 1000 }, 0.25)).toBe(2000);
    expect(goodbyeDelay({ minMs: 0, maxMs: 0 }, 0.7)).toBe(0);
  });
});

describe("the reconnect schedule", () => {
  it("waits exactly the backoff of each attempt (seeded random), not a millisecond less", async () => {
    // 0.1·500, 0.9·1000, 0.3·2000, 0.5·4000, 0.5·8000
    const t = setup({ random: sequence(0.1, 0.9, 0.3, 0.5) });
    const delays = [50, 900, 600, 2000, 4000];
    t.client.connect();
    await microtask();
    for (const [attempt, delayMs] of delays.entries()) {
      t.socket.drop(); // this attempt fails: connection refused (1006)
      expect(t.events.reconnecting.at(-1)).toEqual({ attempt, delayMs });
      expect(t.events.disconnect.at(-1)).toEqual({
        reason: "connection_lost",
        code: 1006,
        willReconnect: true,
        willResume: false,
        delayMs,
      });
      await t.fc.tickAsync(delayMs - 1);
      expect(t.sockets).toHaveLength(attempt + 1);
      await t.fc.tickAsync(1);
      expect(t.sockets).toHaveLength(attempt + 2);
    }
    expect(t.client.stats.reconnectAttempt).toBe(5);
  });

  it("goes connecting → reconnecting → open, with a state event for each change", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.drop();
    await t.fc.tickAsync(250);
    t.socket.welcome(terms);
    expect(t.events.state).toEqual([
      { state: "connecting", previous: "closed" },
      { state: "reconnecting", previous: "connecting" },
      { state: "open", previous: "reconnecting" },
    ]);
    expect(t.log).toEqual([
      "state",
      "error", // socket_error from the drop
      "disconnect",
      "state",
      "reconnecting",
      "state",
      "open",
    ]);
  });

  it("takes a user's backoff function, given (attempt, random)", async () => {
    const calls: Array<[number, number]> = [];
    const t = setup({
      random: sequence(0.25, 0.75),
      reconnect: {
        backoff: (attempt, random) => {
          calls.push([attempt, random]);
          return 100 * (attempt + 1);
        },
      },
    });
    t.client.connect();
    await microtask();
    t.socket.drop();
    await t.fc.tickAsync(100);
    t.socket.drop();
    expect(calls).toEqual([
      [0, 0.25],
      [1, 0.75],
    ]);
    expect(t.events.reconnecting.map((r) => r.delayMs)).toEqual([100, 200]);
  });

  it("gives up after maxAttempts attempts in a row", async () => {
    const t = setup({ reconnect: { maxAttempts: 2 } });
    t.client.connect();
    await microtask();
    t.socket.drop();
    await t.fc.tickAsync(250);
    t.socket.drop();
    await t.fc.tickAsync(500);
    t.socket.drop();
    expect(t.sockets).toHaveLength(3);
    expect(t.events.disconnect.map((d) => d.willReconnect)).toEqual([true, true, false]);
    expect(t.client.state).toBe("closed");
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(3);
  });

  it("maxAttempts 0 never reconnects; reconnect: false neither", async () => {
    for (const reconnect of [{ maxAttempts: 0 }, false as const]) {
      const t = setup({ reconnect });
      t.client.connect();
      await microtask();
      t.socket.welcome(terms);
      t.socket.drop();
      expect(t.events.disconnect).toEqual([
        { reason: "connection_lost", code: 1006, willReconnect: false, willResume: false },
      ]);
      expect(t.client.state).toBe("closed");
    }
  });

  it("resets the attempt counter only after the connection stayed open stableAfterMs", async () => {
    const t = setup({ reconnect: { stableAfterMs: 5000 } });
    t.client.connect();
    await microtask();
    t.socket.drop(); // attempt 0: 250
    await t.fc.tickAsync(250);
    t.socket.welcome(terms);
    // Pongs keep it alive; it drops 1 ms before it counts as stable.
    for (let i = 0; i < 4; i++) {
      await t.fc.tickAsync(1000);
      t.socket.pong(i);
    }
    await t.fc.tickAsync(999);
    t.socket.drop();
    expect(t.events.reconnecting.at(-1)).toEqual({ attempt: 1, delayMs: 500 });
    await t.fc.tickAsync(500);
    t.socket.welcome(terms);
    for (let i = 0; i < 5; i++) {
      await t.fc.tickAsync(1000);
      t.socket.pong(i);
    }
    t.socket.drop(); // open for exactly 5000 ms: stable
    expect(t.events.reconnecting.at(-1)).toEqual({ attempt: 0, delayMs: 250 });
  });

  it("tries at once when the browser comes back online during the wait", async () => {
    const target = new EventTarget();
    const saved = (globalThis as { window?: unknown }).window;
    (globalThis as { window?: unknown }).window = target;
    try {
      const t = setup({ random: () => 0.99, connectTimeoutMs: Number.POSITIVE_INFINITY });
      t.client.connect();
      await microtask();
      t.socket.drop();
      expect(t.sockets).toHaveLength(1);
      target.dispatchEvent(new Event("online"));
      await microtask();
      expect(t.sockets).toHaveLength(2);
      await t.fc.tickAsync(60_000);
      expect(t.sockets).toHaveLength(2); // the cancelled backoff timer never fires
    } finally {
      (globalThis as { window?: unknown }).window = saved;
    }
  });
});

describe("after a goodbye", () => {
  it("waits a random time inside the announced window, then backs off as usual", async () => {
    const t = setup({ random: sequence(0.5, 0.5) });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.receive({ type: "goodbye", reconnect: { minMs: 1000, maxMs: 5000 } });
    t.socket.drop(1001);
    expect(t.events.disconnect).toEqual([
      {
        reason: "server_closed",
        code: 1001,
        willReconnect: true,
        willResume: false,
        delayMs: 3000,
      },
    ]);
    await t.fc.tickAsync(2999);
    expect(t.sockets).toHaveLength(1);
    await t.fc.tickAsync(1);
    expect(t.sockets).toHaveLength(2);
    t.socket.drop(); // the server is not back yet: normal backoff, attempt 1
    expect(t.events.reconnecting.at(-1)).toEqual({ attempt: 1, delayMs: 500 });
  });

  it("spreads a crowd over the whole window", async () => {
    const delays: number[] = [];
    for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
      const t = setup({ random: () => r });
      t.client.connect();
      await microtask();
      t.socket.welcome(terms);
      t.socket.receive({ type: "goodbye", reconnect: { minMs: 1000, maxMs: 10_000 } });
      t.socket.drop(1001);
      delays.push(t.events.disconnect[0]!.delayMs!);
    }
    expect(delays).toEqual([1000, 3250, 5500, 7750, 9991]);
  });
});

describe("when not to come back", () => {
  it("never after the user's close(), even with a retry pending", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const socket = t.socket;
    t.client.close();
    expect(socket.closedWith).toEqual({ code: 1000, reason: undefined });
    expect(socket.terminated).toBe(false);
    expect(t.events.disconnect).toEqual([
      { reason: "client_closed", code: 1000, willReconnect: false, willResume: false },
    ]);
    expect(t.client.state).toBe("closed");
    await t.fc.tickAsync(120_000);
    expect(t.sockets).toHaveLength(1);

    const u = setup();
    u.client.connect();
    await microtask();
    u.socket.drop();
    u.client.close(); // during the backoff wait
    expect(u.client.state).toBe("closed");
    await u.fc.tickAsync(120_000);
    expect(u.sockets).toHaveLength(1);
  });

  it.each([
    ["disconnect", "disconnect"],
    ["reconnecting", "reconnecting"],
    ["state", "state"],
  ] as const)("never when a %s listener calls close()", async (_name, event) => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.on(event, () => t.client.close());
    t.socket.drop();
    expect(t.client.state).toBe("closed");
    await t.fc.tickAsync(120_000);
    expect(t.sockets).toHaveLength(1);
  });

  it.each([
    [1000, "server_closed"],
    [1003, "protocol_error"],
    [1007, "protocol_error"],
    [4400, "protocol_error"],
    [1002, "protocol_error"],
    [1008, "protocol_error"],
    [4403, "server_closed"],
  ])("not after close code %i (reported as %s)", async (code, reason) => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.drop(code);
    expect(t.events.disconnect).toEqual([
      { reason, code, willReconnect: false, willResume: false },
    ]);
    expect(t.client.state).toBe("closed");
    await t.fc.tickAsync(120_000);
    expect(t.sockets).toHaveLength(1);
  });

  it.each([
    [1001, "server_closed"],
    [1006, "connection_lost"],
    [1009, "protocol_error"],
    [1011, "server_closed"],
    [1013, "server_closed"],
    [4000, "timeout"],
    [4429, "rate_limited"],
  ])("but after close code %i (reported as %s)", async (code, reason) => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.drop(code);
    expect(t.events.disconnect).toEqual([
      { reason, code, willReconnect: true, willResume: false, delayMs: 250 },
    ]);
    await t.fc.tickAsync(250);
    expect(t.sockets).toHaveLength(2);
  });
});

describe("the connect timeout", () => {
  it("fails an attempt that got no welcome within connectTimeoutMs, at exactly that time", async () => {
    const t = setup({ connectTimeoutMs: 3000 });
    t.client.connect();
    await microtask();
    t.socket.open();
    const socket = t.socket;
    await t.fc.tickAsync(2999);
    expect(t.events.error).toEqual([]);
    await t.fc.tickAsync(1);
    expect(t.events.error.map((e) => e.code)).toEqual(["connect_timeout"]);
    expect(t.events.disconnect).toEqual([
      { reason: "timeout", willReconnect: true, willResume: false, delayMs: 250 },
    ]);
    expect(socket.closedWith?.code).toBe(1000);
    await t.fc.tickAsync(250);
    expect(t.sockets).toHaveLength(2);
  });

  it("is disarmed by the welcome", async () => {
    const t = setup({ connectTimeoutMs: 3000 });
    t.client.connect();
    await microtask();
    t.socket.welcome({ intervalMs: 1000, timeoutMs: 60_000 });
    await t.fc.tickAsync(10_000);
    expect(t.events.error).toEqual([]);
    expect(t.client.state).toBe("open");
  });
});

describe("one report per attempt", () => {
  it("an error listener that closes the client on connect_timeout gets one disconnect, not two", async () => {
    const t = setup({ connectTimeoutMs: 3000 });
    t.client.on("error", (e) => {
      if (e.code === "connect_timeout") t.client.close();
    });
    t.client.connect();
    await microtask();
    t.socket.open();
    await t.fc.tickAsync(3000);
    expect(t.events.disconnect).toEqual([
      { reason: "client_closed", code: 1000, willReconnect: false, willResume: false },
    ]);
    expect(t.client.state).toBe("closed");
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(1);
  });
});

// Sending while not open: the bounded outbox, its order and overflow, and
// the expired-deadline check that keeps messages off a dead socket.
import type { Clock } from "@heartline/protocol";
import { defineProtocol } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };
const dataOf = (frames: Array<{ type: string; data?: unknown }>) =>
  frames.filter((f) => f.type === "message").map((f) => f.data);

describe("the outbox", () => {
  it("queues while connecting and flushes in order right after welcome, before any listener", async () => {
    const t = setup();
    t.client.on("open", () => t.client.send("from the open listener"));
    t.client.connect();
    await microtask();
    expect(t.client.send("a")).toBe(true);
    expect(t.client.send({ b: 2 })).toBe(true);
    expect(t.client.send(null)).toBe(true);
    expect(t.client.stats.queued).toBe(3);
    t.socket.open();
    expect(t.socket.sent).toEqual([]);
    t.socket.welcome(terms);
    expect(dataOf(t.socket.frames)).toEqual(["a", { b: 2 }, null, "from the open listener"]);
    expect(t.client.stats.queued).toBe(0);
  });

  it("sends straight out while open", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.send("now");
    expect(t.socket.sent).toEqual(['{"type":"message","data":"now"}']);
  });

  it("keeps messages across a reconnect and delivers them to the new connection", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.drop();
    t.client.send(1);
    t.client.send(2);
    await t.fc.tickAsync(250);
    t.client.send(3);
    t.socket.welcome(terms);
    expect(dataOf(t.socket.frames)).toEqual([1, 2, 3]);
    expect(dataOf(t.sockets[0]!.frames)).toEqual([]);
  });

  it("refuses and reports the newest message when full; never drops silently", async () => {
    const t = setup({ outbox: { maxUnackedMessages: 2 } });
    t.client.connect();
    await microtask();
    expect(t.client.send("first")).toBe(true);
    expect(t.client.send("second")).toBe(true);
    expect(t.client.send("third")).toBe(false);
    expect(t.events.error).toHaveLength(1);
    expect(t.events.error[0]).toMatchObject({ code: "outbox_overflow", data: "third" });
    t.socket.welcome(terms);
    expect(dataOf(t.socket.frames)).toEqual(["first", "second"]);
  });

  it("still takes the deprecated outbox.maxMessages when maxUnackedMessages is not given", async () => {
    const t = setup({ outbox: { maxMessages: 1 } });
    t.client.connect();
    await microtask();
    expect(t.client.send("a")).toBe(true);
    expect(t.client.send("b")).toBe(false);
  });

  it("maxUnackedMessages 0 queues nothing", async () => {
    const t = setup({ outbox: { maxUnackedMessages: 0 } });
    t.client.connect();
    await microtask();
    expect(t.client.send("x")).toBe(false);
    expect(t.events.error.map((e) => e.code)).toEqual(["outbox_overflow"]);
  });

  it("reports what is still queued when the client closes for good", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.client.send("a");
    t.client.send("b");
    t.client.close();
    expect(t.events.error.map((e) => [e.code, e.data])).toEqual([
      ["outbox_discarded", "a"],
      ["outbox_discarded", "b"],
    ]);
  });

  it("refuses a send while closed, before connect() and after close()", async () => {
    const t = setup();
    expect(t.client.send("early")).toBe(false);
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.close();
    expect(t.client.send("late")).toBe(false);
    expect(t.events.error.map((e) => [e.code, e.data])).toEqual([
      ["not_connected", "early"],
      ["not_connected", "late"],
    ]);
  });
});

describe("outbound validation", () => {
  const protocol = defineProtocol({ client: z.object({ text: z.string() }) });

  it("sends data that passes protocol.client and refuses data that fails it", async () => {
    const t = setup({ protocol });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    expect(t.client.send({ text: "hi" })).toBe(true);
    expect(t.client.send({ text: 42 } as never)).toBe(false);
    expect(dataOf(t.socket.frames)).toEqual([{ text: "hi" }]);
    expect(t.events.error).toHaveLength(1);
    expect(t.events.error[0]).toMatchObject({ code: "invalid_outbound", data: { text: 42 } });
  });

  it("refuses undefined (the server would close 4400 for a missing data) and non-JSON", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    expect(t.client.send(undefined)).toBe(false);
    expect(t.client.send(10n)).toBe(false);
    expect(t.socket.sent).toEqual([]);
    expect(t.events.error.map((e) => e.code)).toEqual(["invalid_outbound", "invalid_outbound"]);
  });
});

describe("the expired check before a send", () => {
  it("never sends on a socket whose deadline passed while its timers were frozen", async () => {
    // A frozen tab: time moves on, but no timer fires.
    let now = 0;
    const frozen: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const t = setup({ clock: frozen, reconnect: false });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const socket = t.socket;
    now = 1999;
    expect(t.client.send("in time")).toBe(true);
    now = 2000;
    expect(t.client.send("too late")).toBe(false);
    expect(dataOf(socket.frames)).toEqual(["in time"]);
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
    expect(t.events.error.map((e) => [e.code, e.data])).toEqual([["not_connected", "too late"]]);
  });

  it("queues the message for the next connection when reconnecting is on", async () => {
    let now = 0;
    const timers: Array<() => void> = [];
    const frozen: Clock = {
      now: () => now,
      setTimeout: (callback) => timers.push(callback),
      clearTimeout: () => {},
    };
    const t = setup({ clock: frozen });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const first = t.socket;
    now = 5000;
    expect(t.client.send("after the sleep")).toBe(true);
    expect(first.frames).toEqual([]);
    expect(t.client.state).toBe("reconnecting");
    timers.at(-1)!(); // the backoff timer
    await microtask();
    t.socket.welcome(terms);
    expect(dataOf(t.socket.frames)).toEqual(["after the sleep"]);
  });

  it("treats a socket that is no longer OPEN as not open", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.readyState = 2; // the server's close frame arrived; onclose has not run yet
    expect(t.client.send("x")).toBe(true);
    expect(t.socket.sent).toEqual([]);
    expect(t.client.stats.queued).toBe(1);
  });
});

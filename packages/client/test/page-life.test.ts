// Page-life events (a minimal document/window made of EventTargets): each one
// triggers an immediate liveness check; they are removed on close().
import type { Clock } from "@heartline/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };
const globals = globalThis as { document?: unknown; window?: unknown };
let doc: EventTarget;
let win: EventTarget;

beforeEach(() => {
  doc = new EventTarget();
  win = new EventTarget();
  globals.document = doc;
  globals.window = win;
});
afterEach(() => {
  delete globals.document;
  delete globals.window;
});

describe("a liveness check on every page-life event", () => {
  it.each([
    ["visibilitychange", () => doc],
    ["freeze", () => doc],
    ["resume", () => doc],
    ["pageshow", () => win],
    ["online", () => win],
    ["offline", () => win],
  ])("%s sends a ping at once while the connection is alive", async (type, target) => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    await t.fc.tickAsync(300);
    target().dispatchEvent(new Event(type));
    expect(t.socket.pings).toEqual([0]);
    // The cadence now runs from this ping.
    await t.fc.tickAsync(999);
    expect(t.socket.pings).toEqual([0]);
    await t.fc.tickAsync(1);
    expect(t.socket.pings).toEqual([0, 1]);
  });

  it("declares the connection dead at once when the deadline passed while frozen", async () => {
    let now = 0;
    const frozen: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const t = setup({ clock: frozen, reconnect: false });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const socket = t.socket;
    now = 60_000; // the laptop slept a minute; no timer ran
    doc.dispatchEvent(new Event("resume"));
    expect(socket.pings).toEqual([]);
    expect(socket.closedWith?.code).toBe(4000);
    // Detected a minute after the last frame, not at timeoutMs: the figure shows it.
    expect(t.events.disconnect).toEqual([
      {
        reason: "timeout",
        code: 4000,
        willReconnect: false,
        willResume: false,
        detectedAfterMs: 60_000,
      },
    ]);
  });

  it("does nothing while the heartbeat is paused", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.heartbeat.pause();
    doc.dispatchEvent(new Event("visibilitychange"));
    expect(t.socket.pings).toEqual([]);
  });

  it("stops listening on close()", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.close();
    for (const type of ["visibilitychange", "resume", "freeze"]) doc.dispatchEvent(new Event(type));
    for (const type of ["pageshow", "online", "offline"]) win.dispatchEvent(new Event(type));
    expect(t.sockets).toHaveLength(1);
    expect(t.socket.pings).toEqual([]);
  });

  it("stops listening when it gives up reconnecting", async () => {
    const t = setup({ reconnect: { maxAttempts: 0 } });
    t.client.connect();
    await microtask();
    t.socket.drop();
    win.dispatchEvent(new Event("online"));
    expect(t.sockets).toHaveLength(1);
  });
});

describe("offline: no attempts while navigator.onLine is false", () => {
  /** The page's network, as `window.navigator.onLine` says and `online`/`offline` announce. */
  function network(online: boolean) {
    const navigator = { onLine: online };
    Object.assign(win, { navigator });
    return {
      set(next: boolean) {
        navigator.onLine = next;
        win.dispatchEvent(new Event(next ? "online" : "offline"));
      },
    };
  }

  it("makes no attempt while offline, however long, and one at once on online", async () => {
    const net = network(true);
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    net.set(false);
    t.socket.drop();
    // The backoff wait (250 ms) comes due offline: the attempt waits for the network.
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(1);
    expect(t.client.getSnapshot()).toMatchObject({ state: "reconnecting", retryAt: undefined });
    net.set(true);
    await microtask();
    expect(t.sockets).toHaveLength(2);
    expect(t.client.stats.reconnectAttempt).toBe(1);
  });

  it("connect() while offline waits for online too", async () => {
    const net = network(false);
    const t = setup();
    t.client.connect();
    await microtask();
    await t.fc.tickAsync(10_000);
    expect(t.sockets).toHaveLength(0);
    expect(t.client.state).toBe("connecting");
    net.set(true);
    await microtask();
    expect(t.sockets).toHaveLength(1);
  });

  it("close() while waiting for the network reports client_closed, and online then opens nothing", async () => {
    const net = network(false);
    const t = setup();
    t.client.connect();
    await microtask();
    t.client.close();
    expect(t.events.disconnect).toEqual([
      { reason: "client_closed", code: 1000, willReconnect: false, willResume: false },
    ]);
    net.set(true);
    await microtask();
    expect(t.sockets).toHaveLength(0);
  });
});

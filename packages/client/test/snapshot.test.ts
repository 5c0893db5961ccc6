// One status to render: getSnapshot() is an immutable object whose identity
// changes exactly when a field does; subscribe() says when (the shape React's
// useSyncExternalStore wants).
import { describe, expect, it } from "vitest";
import type { ClientSnapshot } from "../src/index.js";
import { microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };

/** A client with a subscriber that records the snapshot at each notification. */
function watched(options: Parameters<typeof setup>[0] = {}) {
  const t = setup(options);
  const seen: ClientSnapshot[] = [];
  const unsubscribe = t.client.subscribe(() => seen.push(t.client.getSnapshot()));
  // `t` keeps its `socket` getter (a spread would read it now).
  return Object.assign(t, { seen, unsubscribe });
}

describe("getSnapshot", () => {
  it("starts closed with nothing known, frozen, and keeps its identity while nothing changes", async () => {
    const t = setup();
    const first = t.client.getSnapshot();
    expect(first).toEqual({
      state: "closed",
      reason: undefined,
      code: undefined,
      willReconnect: false,
      retryAt: undefined,
      attempt: 0,
      sessionId: undefined,
      resumed: false,
      resumeFailed: undefined,
      rtt: undefined,
      queued: 0,
      unacked: 0,
    });
    expect(Object.isFrozen(first)).toBe(true);
    expect(t.client.getSnapshot()).toBe(first);
  });

  it("follows a drop: reason, code, willReconnect and retryAt during the wait, then the attempt", async () => {
    const t = watched();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const open = t.client.getSnapshot();
    expect(open).toMatchObject({ state: "open", sessionId: "s_1", reason: undefined });
    await t.fc.tickAsync(500);
    t.socket.drop(1006);
    // random 0.5 → the first backoff is 250 ms, counted from now (500).
    expect(t.client.getSnapshot()).toMatchObject({
      state: "reconnecting",
      reason: "connection_lost",
      code: 1006,
      willReconnect: true,
      retryAt: 750,
      attempt: 0,
    });
    await t.fc.tickAsync(249);
    expect(t.client.getSnapshot().retryAt).toBe(750);
    await t.fc.tickAsync(1);
    // The attempt is under way: no wait, attempt 1, the last end still shown.
    expect(t.client.getSnapshot()).toMatchObject({
      state: "reconnecting",
      retryAt: undefined,
      attempt: 1,
      reason: "connection_lost",
    });
    t.socket.welcome(terms);
    expect(t.client.getSnapshot()).toMatchObject({
      state: "open",
      reason: undefined,
      code: undefined,
      willReconnect: false,
    });
    // Every notification carried a new object, and each differs from the one before.
    for (const [i, snap] of t.seen.entries()) if (i > 0) expect(snap).not.toBe(t.seen[i - 1]);
    expect(t.seen.map((s) => s.state)).toContain("reconnecting");
  });

  it("shows queued and unacked as they change, with a notification and no event", async () => {
    const t = watched();
    t.client.connect();
    await microtask();
    t.client.send("a");
    t.client.send("b");
    expect(t.client.getSnapshot()).toMatchObject({ queued: 2, unacked: 0 });
    t.socket.welcomeResumable("id.secret");
    expect(t.client.getSnapshot()).toMatchObject({ queued: 0, unacked: 2 });
    const before = t.seen.length;
    t.socket.receive({ type: "ack", seq: 1 });
    expect(t.client.getSnapshot()).toMatchObject({ unacked: 1 });
    expect(t.seen).toHaveLength(before + 1);
  });

  it("shows rtt in whole ms, and resumed / resumeFailed from the welcome", async () => {
    const t = watched();
    t.client.connect();
    await microtask();
    t.socket.welcomeResumable("id.secret");
    await t.fc.tickAsync(1000); // ping 0
    await t.fc.tickAsync(13);
    t.socket.pong(0);
    expect(t.client.getSnapshot().rtt).toBe(13);
    await t.fc.tickAsync(987); // ping 1
    await t.fc.tickAsync(20);
    t.socket.pong(1);
    // Smoothed: 13 + (20 - 13) / 8 = 13.875, shown as 14.
    expect(t.client.rtt.smoothedMs).toBe(13.875);
    expect(t.client.getSnapshot().rtt).toBe(14);
    t.socket.drop();
    await t.fc.tickAsync(250);
    t.socket.welcomeResumable("id.other", { sessionId: "s_2", resumeFailed: "expired" });
    expect(t.client.getSnapshot()).toMatchObject({
      sessionId: "s_2",
      resumed: false,
      resumeFailed: "expired",
    });
    t.socket.drop();
    await t.fc.tickAsync(t.events.reconnecting.at(-1)!.delayMs);
    t.socket.welcomeResumable("id.third", { sessionId: "s_2", resumed: { ack: 0 } });
    expect(t.client.getSnapshot()).toMatchObject({ resumed: true, resumeFailed: undefined });
  });
});

describe("subscribe", () => {
  it("notifies once per change, not for events that change nothing, and stops after unsubscribe", async () => {
    const t = watched();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const count = t.seen.length;
    // A message changes nothing in the snapshot.
    t.socket.receive({ type: "message", data: { hello: 1 } });
    expect(t.seen).toHaveLength(count);
    t.unsubscribe();
    t.client.close();
    expect(t.client.getSnapshot().state).toBe("closed");
    expect(t.seen).toHaveLength(count);
  });

  it("still notifies when a listener read the snapshot first (a state listener, for one)", async () => {
    const t = watched();
    t.client.on("state", () => t.client.getSnapshot());
    t.client.connect();
    await microtask();
    expect(t.seen.at(-1)?.state).toBe("connecting");
  });

  it("reports a subscriber that throws on error (listener_threw) and keeps going", async () => {
    const t = setup();
    t.client.subscribe(() => {
      throw new Error("boom");
    });
    const after: string[] = [];
    t.client.subscribe(() => after.push(t.client.getSnapshot().state));
    t.client.connect();
    await microtask();
    expect(t.events.error.map((e) => e.code)).toContain("listener_threw");
    expect(after).toContain("connecting");
  });

  it("works unbound, as useSyncExternalStore calls it", async () => {
    const t = setup();
    const { subscribe, getSnapshot } = t.client;
    let calls = 0;
    const stop = subscribe(() => calls++);
    t.client.connect();
    await microtask();
    expect(getSnapshot().state).toBe("connecting");
    expect(calls).toBeGreaterThan(0);
    stop();
  });
});

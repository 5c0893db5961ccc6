// The in-memory harness: delivery semantics, every link fault and page-life
// event, at their exact fake-time boundaries.
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createHarness, type Harness, HarnessErrorCode } from "../src/index.js";

const X = 1000;
let h: Harness;

afterEach(async () => {
  await h?.close();
});

async function open(options: Parameters<typeof createHarness>[0] = {}) {
  h = await createHarness({ server: { intervalMs: X }, ...options });
  const c = await h.client();
  await h.waitFor.clientState(c, "open", { within: 0 });
  return c;
}

describe("delivery", () => {
  it("delivers asynchronously, in order, at the sender's fake time", async () => {
    const received: unknown[] = [];
    h = await createHarness({
      server: { intervalMs: X, on: { message: (_conn, data) => received.push(data) } },
    });
    const c = await h.client();
    await h.waitFor.clientState(c, "open", { within: 0 });
    const t = h.now;
    for (const n of [1, 2, 3]) c.send(n);
    expect(received).toEqual([]); // never inside the caller
    await h.advance(0);
    expect(received).toEqual([1, 2, 3]);
    expect(h.now).toBe(t);
  });

  it("a client that pings stays connected; every ping is answered at the same fake ms", async () => {
    const c = await open();
    await h.expectNo.disconnect({}, { within: 10 * X });
    const pings = h.timeline.entries.filter((e) => e.kind === "frame" && e.type === "ping");
    const pongs = h.timeline.entries.filter((e) => e.kind === "frame" && e.type === "pong");
    expect(pings.map((e) => e.at)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => n * X));
    expect(pongs.map((e) => e.at)).toEqual(pings.map((e) => e.at));
    expect(c.rtt.latestMs).toBe(0);
  });

  it("a silent client is alive at 2X − 1 ms and disconnected (timeout, 4000) at exactly 2X", async () => {
    const c = await open();
    const t0 = h.now;
    c.heartbeat.pause();
    await h.expectNo.disconnect({ client: c }, { within: 2 * X - 1 });
    const gone = await h.waitFor.disconnect({ client: c }, { within: 1 });
    expect(gone).toMatchObject({
      reason: DisconnectReason.Timeout,
      code: CloseCode.HeartbeatTimeout,
    });
    expect(gone.at - t0).toBe(2 * X);
    expect(gone.sessionId).toBe(c.sessionId);
  });

  it("runs the same way twice: the timeline is identical", async () => {
    const run = async () => {
      const c = await open({ seed: 7 });
      await h.advance(3 * X);
      c.abort();
      await h.waitFor.clientState(c, "open", { within: 5 * X });
      await h.advance(X);
      const text = h.timeline.format();
      await h.close();
      return text;
    };
    expect(await run()).toBe(await run());
  });
});

describe("link faults", () => {
  it("latency: the RTT is both ways' latency; frames arrive that much later", async () => {
    const c = await open();
    c.latency(40);
    const ping = await h.waitFor.frame({ direction: "toServer", type: "ping" }, { within: 2 * X });
    expect(ping.at).toBe(X + 40);
    const pong = await h.waitFor.frame({ direction: "toClient", type: "pong" }, { within: X });
    expect(pong.at).toBe(X + 80);
    expect(c.rtt.latestMs).toBe(80);
  });

  it("latency one way only", async () => {
    const c = await open();
    c.latency(25, "toClient");
    const pong = await h.waitFor.frame({ direction: "toClient", type: "pong" }, { within: 2 * X });
    expect(pong.at).toBe(X + 25);
    expect(c.rtt.latestMs).toBe(25);
  });

  it("blackhole: nothing closes; the server gives up at 2X after the last ping, the client at its own timeout", async () => {
    const c = await open();
    await h.advance(X); // ping 0 at X
    c.blackhole();
    const lastHeard = h.now;
    await h.expectNo.disconnect({}, { within: 2 * X - 1 });
    const gone = await h.waitFor.disconnect({ client: c }, { within: 1 });
    expect(gone).toMatchObject({ reason: "timeout", lastHeardAt: lastHeard });
    expect(gone.at).toBe(lastHeard + 2 * X);
    // The client never saw the close (blackholed): its own silence timer decided.
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { since: 0 });
    expect(own.payload).toMatchObject({ reason: "timeout", code: 4000 });
    expect(own.at).toBe(lastHeard + 2 * X);
  });

  it("heal: what was sent during a short blackhole arrives, in order, and the connection lives", async () => {
    const received: unknown[] = [];
    h = await createHarness({
      server: { intervalMs: X, on: { message: (_conn, data) => received.push(data) } },
    });
    const c = await h.client();
    await h.advance(0);
    c.blackhole();
    c.send("a");
    c.send("b");
    await h.advance(X + 500);
    expect(received).toEqual([]);
    c.heal();
    await h.advance(0);
    expect(received).toEqual(["a", "b"]);
    await h.expectNo.disconnect({}, { within: 5 * X });
  });

  it('blackhole({ whileBlackholed: "discard" }): what is sent meanwhile is lost for good, even the end of a socket the client gave up on', async () => {
    const received: unknown[] = [];
    h = await createHarness({
      server: { intervalMs: X, on: { message: (_conn, data) => received.push(data) } },
    });
    const c = await h.client({ reconnect: false });
    await h.waitFor.clientState(c, "open", { within: 0 });
    await h.advance(X); // ping 0 at X, answered
    c.blackhole({ whileBlackholed: "discard" });
    const lastHeard = h.now;
    c.send("lost");
    // The client gives up at its own timeout; its socket's end is lost too…
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { within: 2 * X });
    expect(own.payload).toMatchObject({ reason: "timeout" });
    c.heal();
    // …so the server still holds the connection, and times it out at 2X as for any silent client.
    const gone = await h.waitFor.disconnect({ client: c }, { within: 2 * X });
    expect(gone).toMatchObject({ reason: "timeout", code: 4000 });
    expect(gone.at).toBe(lastHeard + 2 * X);
    expect(received).toEqual([]);
    const lost = h.timeline.entries.filter(
      (e) => (e.kind === "frame" && e.dropped) || (e.kind === "link" && e.what.startsWith("LOST")),
    );
    expect(lost.length).toBeGreaterThan(0);
  });

  it("blackhole refuses an unknown whileBlackholed with invalid_option", async () => {
    const c = await open();
    expect(() => c.blackhole({ whileBlackholed: "drop" as "hold" })).toThrow(
      expect.objectContaining({ code: HarnessErrorCode.InvalidOption }),
    );
  });

  it("drop: losing every pong makes the client declare the server dead at exactly timeoutMs", async () => {
    const c = await open();
    const t0 = h.now;
    c.drop("toClient", (frame) => frame.type === "pong");
    const own = await h.waitFor.clientEvent(c, "disconnect");
    expect(own.payload).toMatchObject({ reason: "timeout", code: 4000 });
    expect(own.at - t0).toBe(2 * X);
    expect(h.timeline.entries.some((e) => e.kind === "frame" && e.dropped)).toBe(true);
    // The server heard the pings all along; it sees the client's close.
    const server = await h.waitFor.disconnect({ client: c }, { since: t0 });
    expect(server).toMatchObject({ reason: "client_closed", code: 4000 });
  });

  it("drop stops when its returned function is called", async () => {
    const received: unknown[] = [];
    h = await createHarness({
      server: { intervalMs: X, on: { message: (_conn, data) => received.push(data) } },
    });
    const c = await h.client();
    await h.advance(0);
    const stop = c.drop("toServer", (frame) => frame.type === "message");
    c.send("lost");
    stop();
    c.send("kept");
    await h.advance(0);
    expect(received).toEqual(["kept"]);
  });

  it("delay: a ping held X + 1 ms arrives after the server's deadline", async () => {
    const c = await open();
    c.delay("toServer", X + 1, (frame) => frame.type === "ping");
    // ping 0 sent at X would arrive at 2X + 1: the server decides at 2X.
    const gone = await h.waitFor.disconnect({ client: c });
    expect(gone.at).toBe(2 * X);
    expect(gone.reason).toBe("timeout");
  });

  it("delay keeps TCP order: later frames wait behind a delayed one", async () => {
    const received: unknown[] = [];
    h = await createHarness({
      server: { intervalMs: X, on: { message: (_conn, data) => received.push(data) } },
    });
    const c = await h.client();
    await h.advance(0);
    const stop = c.delay(
      "toServer",
      300,
      (frame) => (frame.message as { data?: unknown }).data === 1,
    );
    c.send(1);
    stop();
    c.send(2);
    await h.advance(299);
    expect(received).toEqual([]);
    await h.advance(1);
    expect(received).toEqual([1, 2]);
  });

  it("abort: the server sees connection_lost, the client 1006, at once", async () => {
    const c = await open();
    await h.advance(500);
    c.abort();
    const gone = await h.waitFor.disconnect({ client: c }, { within: 0 });
    expect(gone.reason).toBe("connection_lost");
    expect(gone).not.toHaveProperty("code");
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { within: 0 });
    expect(own.payload).toMatchObject({
      reason: "connection_lost",
      code: 1006,
      willReconnect: true,
    });
    // …and it comes back by itself.
    await h.waitFor.clientState(c, "open", { within: 5 * X });
    expect(h.server.stats().accepted).toBe(2);
  });
});

describe("page life", () => {
  it("hidden / visible drive the client's real listener: a liveness ping at once", async () => {
    const c = await open();
    await h.advance(300);
    c.hidden();
    const ping = await h.waitFor.frame({ direction: "toServer", type: "ping" }, { within: 0 });
    expect(ping.at).toBe(300);
    await h.advance(100);
    c.visible();
    expect((await h.waitFor.frame({ type: "ping" }, { within: 0 })).at).toBe(400);
  });

  it("freeze stops the page's timers: the server times it out; on resume the client notices at once and reconnects", async () => {
    const c = await open();
    await h.advance(X); // ping 0
    c.freeze(); // `freeze` gets one last ping out
    const frozenAt = h.now;
    await h.advance(0);
    const pings = h.timeline.entries.filter((e) => e.kind === "frame" && e.type === "ping");
    expect(pings.map((e) => [e.at, e.kind === "frame" && JSON.parse(e.text).seq])).toEqual([
      [X, 0],
      [X, 1],
    ]);
    await h.expectNo.frame({ direction: "toServer" }, { within: 5 * X });
    const gone = await h.waitFor.disconnect({ client: c }, { since: frozenAt });
    expect(gone).toMatchObject({ reason: "timeout", at: frozenAt + 2 * X });
    expect(c.state).toBe("open"); // it cannot know: nothing runs
    c.resume();
    await h.advance(0);
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { within: 0 });
    expect(own.payload).toMatchObject({ reason: "timeout" });
    await h.waitFor.clientState(c, "open");
  });

  it("freezing one client leaves the others alone (each has its own page)", async () => {
    h = await createHarness({ server: { intervalMs: X } });
    const a = await h.client();
    const b = await h.client();
    await h.advance(0);
    a.freeze();
    await h.waitFor.disconnect({ client: a });
    await h.expectNo.disconnect({ client: b }, { within: 10 * X });
    expect(b.frozen).toBe(false);
    expect(a.frozen).toBe(true);
  });

  it("offline: the client makes no attempt (navigator.onLine is false); online reconnects at once", async () => {
    const c = await open({ seed: 3 });
    c.offline();
    c.abort();
    await h.waitFor.clientState(c, "reconnecting", { within: 0 });
    await h.advance(20 * X);
    expect(c.state).toBe("reconnecting");
    expect(h.server.stats().accepted).toBe(1);
    // The first retry came due offline and waits for the network: no more attempts.
    expect(c.stats.reconnectAttemptsTotal).toBe(1);
    const back = h.now;
    c.online();
    await h.waitFor.clientState(c, "open", { within: 0 });
    expect(h.now).toBe(back);
  });

  it("never leaves document or window patched", async () => {
    await open();
    expect("document" in globalThis).toBe(false);
    expect("window" in globalThis).toBe(false);
  });
});

describe("server restart", () => {
  it("stopServer sends goodbye; the client comes back inside the window to the new server", async () => {
    const window = { minMs: 100, maxMs: 200 };
    h = await createHarness({ server: { intervalMs: X, reconnectWindow: window } });
    const c = await h.client({ random: () => 0.5 });
    await h.advance(0);
    const first = c.sessionId;
    await h.stopServer();
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { since: 0 });
    expect(own.payload).toMatchObject({ reason: "server_closed", code: 1001, willReconnect: true });
    expect(own.payload.delayMs).toBe(150); // random 0.5 inside [100, 200]
    await h.startServer();
    await h.expectNo.entry((e) => e.kind === "server" && e.event === "connection", {
      within: 149,
    });
    await h.waitFor.clientState(c, "open", { within: 1 });
    expect(h.now - own.at).toBe(150);
    expect(c.sessionId).not.toBe(first);
  });
});

describe("assertions", () => {
  it("waitFor fails with wait_timed_out and the printed timeline", async () => {
    await open();
    const error = await h.waitFor.disconnect({}, { within: 500 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: HarnessErrorCode.WaitTimedOut });
    expect(String((error as Error).message)).toMatch(/timeline \(\d+ entries/);
    expect(String((error as Error).message)).toContain('"type":"welcome"');
    expect(h.now).toBe(500);
  });

  it("expectNo fails with unexpected_event, stopping the clock where it happened", async () => {
    const c = await open();
    c.heartbeat.pause();
    const error = await h.expectNo
      .disconnect({ reason: "timeout" }, { within: 10 * X })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: HarnessErrorCode.UnexpectedEvent });
    expect(h.now).toBe(2 * X);
  });

  it("waitFor.clientState fails when the state never comes", async () => {
    const c = await open();
    await expect(h.waitFor.clientState(c, "closed", { within: 100 })).rejects.toMatchObject({
      code: HarnessErrorCode.WaitTimedOut,
    });
  });
});

describe("alongside vitest's fake timers", () => {
  it("runs exactly the same with vi.useFakeTimers() installed, and leaves the globals to vitest", async () => {
    vi.useFakeTimers();
    try {
      let appTimerFired = false;
      setTimeout(() => {
        appTimerFired = true;
      }, 10);
      const c = await open();
      c.heartbeat.pause();
      const gone = await h.waitFor.disconnect({ client: c });
      expect(gone.at).toBe(2 * X);
      expect(appTimerFired).toBe(false); // the harness never moved vitest's clock
      vi.advanceTimersByTime(10);
      expect(appTimerFired).toBe(true);
      expect(h.now).toBe(2 * X); // nor vitest the harness's
    } finally {
      vi.useRealTimers();
    }
  });
});

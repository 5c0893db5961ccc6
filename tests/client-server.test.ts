// @heartline/client against the real @heartline/server over real loopback
// sockets (127.0.0.1, port 0), through @heartline/testing: both run on one
// un-installed fake clock, so Heartline's timers move only when the test
// advances it, and the harness lets socket I/O settle after every step.
import type { ClientEvents } from "@heartline/client";
import { createHarness, type Harness, type HarnessClient } from "@heartline/testing";
import { afterEach, describe, expect, it } from "vitest";

const window = { minMs: 100, maxMs: 200 };
let h: Harness;

afterEach(async () => {
  await h?.close();
});

/** The server echoes `{ echo: data }`; `received` holds what each server instance got, in order. */
async function start() {
  const received: unknown[][] = [];
  h = await createHarness({
    transport: "loopback",
    server: {
      intervalMs: 1000,
      reconnectWindow: window,
      on: { message: (conn, data) => void conn.send({ echo: data }) },
    },
  });
  const track = () => {
    const mine: unknown[] = [];
    received.push(mine);
    h.server.on("message", (_conn: unknown, data: unknown) => mine.push(data));
  };
  track();
  return { received, track };
}

/** A client with every event recorded, as the application would see them. */
async function startClient() {
  const client = await h.client({ random: () => 0.5 });
  const events: { [K in keyof ClientEvents]: Array<ClientEvents[K]> } = {
    state: [],
    open: [],
    message: [],
    pong: [],
    error: [],
    disconnect: [],
    reconnecting: [],
    resumed: [],
    undelivered: [],
  };
  for (const name of Object.keys(events) as Array<keyof ClientEvents>) {
    client.on(name, (payload) => (events[name] as unknown[]).push(payload));
  }
  return { client, events };
}

function sessions(): string[] {
  return h.timeline.entries
    .filter((e) => e.kind === "server" && e.event === "connection")
    .map((e) => (e as { payload: { sessionId: string } }).payload.sessionId);
}

async function opened(client: HarnessClient) {
  await h.waitFor.clientState(client, "open", { within: 0 });
}

describe("client ↔ server", () => {
  it("connects, takes the server's terms from welcome, pings and measures RTT", async () => {
    await start();
    const { client, events } = await startClient();
    await opened(client);
    // The client offers resume by default; this server has it off, so plain v1: not resumed.
    // The server's default rate limit travels to the application too.
    expect(events.open[0]).toEqual({
      sessionId: sessions()[0],
      heartbeat: { intervalMs: 1000, timeoutMs: 2000 },
      rate: { perSecond: 50, burst: 200 },
      resumed: false,
    });
    expect(client.state).toBe("open");
    for (let i = 0; i < 3; i++) await h.advance(1000);
    expect(events.pong.map((p) => p.seq)).toEqual([0, 1, 2]);
    expect(client.rtt.latestMs).toBeGreaterThanOrEqual(0);
    expect(client.stats.pingsSent).toBe(3);
    // Still open well past timeoutMs: pings keep the server's timer and pongs the client's fed.
    expect(events.disconnect).toEqual([]);
    client.send({ text: "hello" });
    await h.advance(0);
    expect(events.message[0]).toEqual({ echo: { text: "hello" } });
  });

  it("with heartbeats paused, the server closes 4000 and the client reports timeout", async () => {
    await start();
    const { client, events } = await startClient();
    await opened(client);
    client.heartbeat.pause();
    await h.advance(1999);
    expect(events.disconnect).toEqual([]);
    await h.advance(1);
    expect(events.disconnect[0]).toMatchObject({
      reason: "timeout",
      code: 4000,
      willReconnect: true,
    });
  });

  it("comes back after the server restarts on the same port, inside the goodbye window, and flushes its outbox", async () => {
    const { received, track } = await start();
    const { client, events } = await startClient();
    await opened(client);

    await h.stopServer();
    // random 0.5 in the [100, 200] goodbye window
    // It reconnects, but holds no token (resume is off on this server): a new session, not a resume.
    expect(events.disconnect[0]).toEqual({
      reason: "server_closed",
      code: 1001,
      willReconnect: true,
      willResume: false,
      delayMs: 150,
    });
    expect(client.state).toBe("reconnecting");
    const { at: disconnectedAt } = await h.waitFor.clientEvent(client, "disconnect", undefined, {
      since: 0,
    });

    // Sent while the server is down: queued, in order.
    expect(client.send("one")).toBe(true);
    expect(client.send("two")).toBe(true);

    await h.startServer(); // the same port
    track();
    await h.advance(disconnectedAt + 149 - h.now);
    expect(sessions()).toHaveLength(1); // the window is respected
    await h.advance(1);
    expect(events.open).toHaveLength(2);
    expect(events.open[1]!.sessionId).toBe(sessions()[1]);
    expect(events.open[1]!.sessionId).not.toBe(events.open[0]!.sessionId);
    expect(events.open[1]!.resumed).toBe(false);
    expect(received[1]).toEqual(["one", "two"]);
    expect(received[0]).toEqual([]);
    // Nothing was held unacknowledged (plain v1), so nothing is reported lost; no resume either.
    expect(events.resumed).toEqual([]);
    expect(events.undelivered).toEqual([]);
  });

  it("retries with backoff while the server is down, then connects", async () => {
    await start();
    const { client, events } = await startClient();
    await opened(client);
    await h.stopServer();
    expect(events.disconnect).toHaveLength(1);
    await h.advance(150); // attempt 0 (goodbye window): refused
    expect(events.disconnect[1]).toMatchObject({
      reason: "connection_lost",
      willReconnect: true,
      delayMs: 500, // backoff(1) = 0.5 · 1000
    });
    await h.startServer();
    await h.advance(500);
    expect(events.open).toHaveLength(2);
    expect(events.open[1]!.sessionId).toBe(sessions()[1]);
  });
});

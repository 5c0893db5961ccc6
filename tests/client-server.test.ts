// @heartline/client against the real @heartline/server on 127.0.0.1, port 0.
// Both share one un-installed fake clock: Heartline's timers move only when
// the test ticks, while socket I/O runs for real in between.
import type { AddressInfo } from "node:net";
import { type ClientEvents, createClient, type HeartlineClient } from "@heartline/client";
import type { Clock } from "@heartline/protocol";
import { createServer, type HeartlineServer } from "@heartline/server";
import FakeTimers from "@sinonjs/fake-timers";
import { afterEach, describe, expect, it } from "vitest";

const HOST = "127.0.0.1";
const window = { minMs: 100, maxMs: 200 };

let fc: FakeTimers.Clock;
let clock: Clock;
const servers: HeartlineServer[] = [];
const clients: HeartlineClient[] = [];

function useFakeClock(): void {
  fc = FakeTimers.createClock(1_000_000);
  clock = {
    now: () => fc.now,
    setTimeout: (callback, ms) => fc.setTimeout(callback, ms),
    clearTimeout: (handle) => fc.clearTimeout(handle as FakeTimers.TimerId),
  };
}

/** Waits for socket I/O (never for a Heartline timeout: those run on the fake clock). */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function startServer(port = 0) {
  const received: unknown[] = [];
  const sessions: string[] = [];
  const server = createServer({
    port,
    host: HOST,
    intervalMs: 1000,
    clock,
    reconnectWindow: window,
    on: {
      connection: (conn) => sessions.push(conn.sessionId),
      message: (conn, data) => {
        received.push(data);
        conn.send({ echo: data });
      },
    },
  });
  servers.push(server);
  await server.listening;
  return { server, port: (server.address() as AddressInfo).port, received, sessions };
}

function startClient(port: number) {
  const events: { [K in keyof ClientEvents]: Array<ClientEvents[K]> } = {
    state: [],
    open: [],
    message: [],
    pong: [],
    error: [],
    disconnect: [],
    reconnecting: [],
  };
  const client = createClient({
    url: `ws://${HOST}:${port}/ws`,
    clock,
    random: () => 0.5,
    on: {
      state: (e) => events.state.push(e),
      open: (e) => events.open.push(e),
      message: (e) => events.message.push(e),
      pong: (e) => events.pong.push(e),
      error: (e) => events.error.push(e),
      disconnect: (e) => events.disconnect.push(e),
      reconnecting: (e) => events.reconnecting.push(e),
    },
  });
  clients.push(client);
  client.connect();
  return { client, events };
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  const closing = servers.splice(0).map((server) => server.close());
  // Server shutdown waits on its (fake) close timeout for clients that linger.
  await fc?.tickAsync(10_000);
  await Promise.all(closing);
});

describe("client ↔ server", () => {
  it("connects, takes the server's terms from welcome, pings and measures RTT", async () => {
    useFakeClock();
    const { port, sessions } = await startServer();
    const { client, events } = startClient(port);
    await until(() => events.open.length === 1, "open");
    expect(events.open[0]).toEqual({
      sessionId: sessions[0],
      heartbeat: { intervalMs: 1000, timeoutMs: 2000 },
    });
    expect(client.state).toBe("open");
    for (let i = 0; i < 3; i++) {
      await fc.tickAsync(1000);
      await until(() => events.pong.length === i + 1, `pong ${i}`);
    }
    expect(events.pong.map((p) => p.seq)).toEqual([0, 1, 2]);
    expect(client.rtt.latestMs).toBeGreaterThanOrEqual(0);
    expect(client.stats.pingsSent).toBe(3);
    // Still open well past timeoutMs: pings keep the server's timer and pongs the client's fed.
    expect(events.disconnect).toEqual([]);
    client.send({ text: "hello" });
    await until(() => events.message.length === 1, "echo");
    expect(events.message[0]).toEqual({ echo: { text: "hello" } });
  });

  it("with heartbeats paused, the server closes 4000 and the client reports timeout", async () => {
    useFakeClock();
    const { port } = await startServer();
    const { client, events } = startClient(port);
    await until(() => events.open.length === 1, "open");
    client.heartbeat.pause();
    await fc.tickAsync(1999);
    expect(events.disconnect).toEqual([]);
    await fc.tickAsync(1);
    await until(() => events.disconnect.length === 1, "disconnect");
    expect(events.disconnect[0]).toMatchObject({
      reason: "timeout",
      code: 4000,
      willReconnect: true,
    });
  });

  it("comes back after the server restarts on the same port, inside the goodbye window, and flushes its outbox", async () => {
    useFakeClock();
    const first = await startServer();
    const { client, events } = startClient(first.port);
    await until(() => events.open.length === 1, "open");

    const closing = first.server.close();
    await until(() => events.disconnect.length === 1, "disconnect");
    await closing;
    // random 0.5 in the [100, 200] goodbye window
    expect(events.disconnect[0]).toEqual({
      reason: "server_closed",
      code: 1001,
      willReconnect: true,
      delayMs: 150,
    });
    expect(client.state).toBe("reconnecting");

    // Sent while the server is down: queued, in order.
    expect(client.send("one")).toBe(true);
    expect(client.send("two")).toBe(true);

    const second = await startServer(first.port);
    await fc.tickAsync(149);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.sessions).toEqual([]); // the window is respected
    await fc.tickAsync(1);
    await until(() => events.open.length === 2, "reopen");
    expect(events.open[1]!.sessionId).toBe(second.sessions[0]);
    expect(events.open[1]!.sessionId).not.toBe(events.open[0]!.sessionId);
    await until(() => second.received.length === 2, "outbox delivered");
    expect(second.received).toEqual(["one", "two"]);
    expect(first.received).toEqual([]);
  });

  it("retries with backoff while the server is down, then connects", async () => {
    useFakeClock();
    const first = await startServer();
    const port = first.port;
    const { events } = startClient(port);
    await until(() => events.open.length === 1, "open");
    const closing = first.server.close();
    await until(() => events.disconnect.length === 1, "disconnect");
    await closing;
    await fc.tickAsync(150); // attempt 0 (goodbye window): refused
    await until(() => events.disconnect.length === 2, "refused attempt");
    expect(events.disconnect[1]).toMatchObject({
      reason: "connection_lost",
      willReconnect: true,
      delayMs: 500, // backoff(1) = 0.5 · 1000
    });
    const second = await startServer(port);
    await fc.tickAsync(500);
    await until(() => events.open.length === 2, "reopen");
    expect(events.open[1]!.sessionId).toBe(second.sessions[0]);
  });
});

import { CloseCode, DisconnectReason } from "@heartline/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { HeartlineServer } from "../src/index.js";
import { fakeClock, settle, startServer, TestClient, until } from "./helpers.js";

const X = 1000;
let server: HeartlineServer<unknown, unknown, unknown> | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(options: { keepAliveIntervalMs?: number } = {}) {
  const { fc, clock } = fakeClock();
  const s = await startServer({ intervalMs: X, clock, closeTimeoutMs: 0, ...options });
  server = s.hl as HeartlineServer<unknown, unknown, unknown>;
  const client = await TestClient.connect(s.url);
  return { ...s, fc, clock, client };
}

describe("heartbeat", () => {
  it("sends welcome first, with the connection's terms", async () => {
    const { client, events } = await setup();
    expect(client.frames[0]).toEqual({
      type: "welcome",
      protocol: 1,
      sessionId: events.connections[0]!.sessionId,
      heartbeat: { intervalMs: X, timeoutMs: 2 * X },
      rate: { perSecond: 50, burst: 200 },
    });
    expect(client.ws.protocol).toBe("heartline.v1");
  });

  it("answers every ping with pong carrying the same seq", async () => {
    const { client } = await setup();
    for (const seq of [0, 1, 7, Number.MAX_SAFE_INTEGER]) client.send({ type: "ping", seq });
    await until(() => client.ofType("pong").length === 4, "pongs");
    expect(client.ofType("pong").map((p) => p.seq)).toEqual([0, 1, 7, Number.MAX_SAFE_INTEGER]);
  });

  it("keeps a silent client at 2X − 1 ms and reports timeout at 2X; the client sees 4000", async () => {
    const { client, events, fc } = await setup();
    const connectedAt = events.connections[0]!.connectedAt;
    await fc.tickAsync(2 * X - 1);
    await settle();
    expect(events.disconnects).toEqual([]);
    expect(client.isClosed).toBe(false);

    await fc.tickAsync(1);
    expect(events.disconnects).toEqual([
      {
        sessionId: events.connections[0]!.sessionId,
        reason: DisconnectReason.Timeout,
        code: CloseCode.HeartbeatTimeout,
        lastHeardAt: connectedAt,
        lastSeenAt: connectedAt,
        connectedAt,
        auth: undefined,
        resumable: false,
      },
    ]);
    const { code } = await client.closed;
    expect(code).toBe(CloseCode.HeartbeatTimeout);
    expect(server!.stats().open).toBe(0);
  });

  it("a ping at 2X − 1 ms moves the deadline to 4X − 1 ms", async () => {
    const { client, events, fc } = await setup();
    await fc.tickAsync(2 * X - 1);
    client.send({ type: "ping", seq: 0 });
    await until(() => client.ofType("pong").length === 1, "pong");
    await fc.tickAsync(1);
    await fc.tickAsync(2 * X - 2);
    await settle();
    expect(events.disconnects).toEqual([]);
    await fc.tickAsync(1);
    expect(events.disconnects.map((d) => d.reason)).toEqual([DisconnectReason.Timeout]);
    expect(events.disconnects[0]!.lastHeardAt - events.disconnects[0]!.connectedAt).toBe(2 * X - 1);
    expect((await client.closed).code).toBe(CloseCode.HeartbeatTimeout);
  });

  it("an application message also counts as a sign of life; protocol pongs do not", async () => {
    const { client, events, fc } = await setup({ keepAliveIntervalMs: X / 2 });
    await fc.tickAsync(X);
    client.send({ type: "message", data: "hi" });
    await until(() => events.messages.length === 1, "message");
    // The ws client auto-answers the server's WebSocket pings with pongs all along.
    await fc.tickAsync(2 * X - 1);
    await settle();
    expect(client.pings).toBeGreaterThanOrEqual(5);
    expect(events.disconnects).toEqual([]);
    await fc.tickAsync(1);
    expect(events.disconnects.map((d) => d.reason)).toEqual([DisconnectReason.Timeout]);
  });

  it("sends each connection one WebSocket ping per keepAliveIntervalMs, from one shared sweep spread over it", async () => {
    const { client, fc } = await setup({ keepAliveIntervalMs: 300 });
    const second = await TestClient.connect(client.ws.url);
    // A slice every 75 ms (a quarter of the interval), sized for one pass
    // per interval: the first connection at 150 ms, the second at 300.
    await fc.tickAsync(149);
    await settle();
    expect([client.pings, second.pings]).toEqual([0, 0]);
    await fc.tickAsync(1);
    await until(() => client.pings === 1, "the first connection's keep-alive ping");
    await fc.tickAsync(149);
    await settle();
    expect([client.pings, second.pings]).toEqual([1, 0]);
    await fc.tickAsync(1);
    await until(() => second.pings === 1, "the second connection's keep-alive ping");
    // One each per interval from then on, never a burst of both.
    await fc.tickAsync(300);
    await until(() => client.pings === 2 && second.pings === 2, "second keep-alive pings");
    await fc.tickAsync(299);
    await settle();
    expect([client.pings, second.pings]).toEqual([3, 2]);
  });

  it("sends no WebSocket pings by default", async () => {
    const { client, fc } = await setup();
    client.send({ type: "ping", seq: 1 });
    await fc.tickAsync(2 * X - 1);
    await settle();
    expect(client.pings).toBe(0);
  });
});

import { CloseCode, DisconnectReason, defineProtocol } from "@heartline/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as z from "zod";
import type { HeartlineServer } from "../src/index.js";
import { captureRethrows, fakeClock, settle, startServer, TestClient, until } from "./helpers.js";

const chat = defineProtocol({
  client: z.object({ text: z.string() }),
  server: z.object({ from: z.string(), text: z.string() }),
});

let server: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startServer<unknown, unknown, undefined>>[0] = {}) {
  const { fc, clock } = fakeClock();
  const s = await startServer({ clock, ...options });
  server = s.hl;
  const client = await TestClient.connect(s.url);
  return { ...s, fc, client };
}

describe("bad input closes once, as protocol_error", () => {
  it.each([
    ["not JSON", "hello"],
    ["not an object", "[]"],
    ["no type", '{"seq":3}'],
    ["an unknown type", '{"type":"dance"}'],
    ["seq below 0", '{"type":"ping","seq":-1}'],
    ["seq not an integer", '{"type":"ping","seq":1.5}'],
    ["seq missing", '{"type":"ping"}'],
    ["data missing", '{"type":"message"}'],
  ])("%s → 4400", async (_name, frame) => {
    const { client, events, hl } = await setup();
    client.send(frame);
    expect((await client.closed).code).toBe(CloseCode.BadMessage);
    await until(() => hl.stats().open === 0, "end");
    await settle();
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: DisconnectReason.ProtocolError, code: 4400 }),
    ]);
  });

  it("a binary frame → 1003", async () => {
    const { client, events } = await setup();
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closed).code).toBe(CloseCode.UnsupportedData);
    await settle();
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "protocol_error", code: 1003 }),
    ]);
  });

  it("invalid UTF-8 in a text frame → 1007", async () => {
    const { client, events } = await setup();
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(CloseCode.InvalidPayload);
    await until(() => events.disconnects.length > 0, "report");
    await settle();
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "protocol_error", code: 1007 }),
    ]);
  });

  it("a frame over maxPayload → 1009; one at the limit passes", async () => {
    const { client, events } = await setup({ maxPayload: 1024 });
    const envelope = JSON.stringify({ type: "message", data: "" });
    client.send(JSON.stringify({ type: "message", data: "x".repeat(1024 - envelope.length) }));
    await until(() => events.messages.length === 1, "message at the limit");
    client.send(JSON.stringify({ type: "message", data: "x".repeat(1025 - envelope.length) }));
    expect((await client.closed).code).toBe(CloseCode.MessageTooBig);
    await until(() => events.disconnects.length > 0, "report");
    await settle();
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "protocol_error", code: 1009 }),
    ]);
  });

  it("defaults maxPayload to 64 KiB", async () => {
    const { client, events } = await setup();
    client.send(JSON.stringify({ type: "message", data: "x".repeat(64 * 1024) }));
    expect((await client.closed).code).toBe(1009);
    await until(() => events.disconnects.length === 1, "report");
  });
});

describe("application messages", () => {
  it("delivers data validated and typed by the app's schema", async () => {
    const { fc, clock } = fakeClock();
    void fc;
    const s = await startServer({ clock, protocol: chat });
    server = s.hl;
    const received: string[] = [];
    s.hl.on("message", (conn, data) => {
      received.push(data.text);
      conn.send({ from: "server", text: data.text.toUpperCase() });
    });
    const client = await TestClient.connect(s.url);
    client.send({ type: "message", data: { text: "hello", extra: 1 } });
    await until(() => client.ofType("message").length === 1, "echo");
    expect(received).toEqual(["hello"]);
    expect(client.ofType("message")[0]!.data).toEqual({ from: "server", text: "HELLO" });
  });

  it("answers an invalid payload with an error message, keeps the connection, counts it as life", async () => {
    const { fc, clock } = fakeClock();
    const s = await startServer({ clock, intervalMs: 1000, protocol: chat });
    server = s.hl;
    const client = await TestClient.connect(s.url);
    await fc.tickAsync(1999);
    client.send({ type: "message", data: { text: 42 } });
    await until(() => client.ofType("error").length === 1, "error message");
    expect(client.ofType("error")[0]).toMatchObject({ type: "error", code: "invalid_payload" });
    expect(typeof client.ofType("error")[0]!.message).toBe("string");
    expect(s.events.messages).toEqual([]);
    await fc.tickAsync(1);
    await settle();
    expect(client.isClosed).toBe(false);
    client.send({ type: "message", data: { text: "ok" } });
    await until(() => s.events.messages.length === 1, "next message");
    expect(s.events.disconnects).toEqual([]);
  });

  it("refuses to send data that fails the server schema, sending nothing", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock, protocol: chat });
    server = s.hl;
    const client = await TestClient.connect(s.url);
    const conn = s.events.connections[0]!;
    expect(() => conn.send({ text: 1 } as never)).toThrow(
      expect.objectContaining({ name: "HeartlineError", code: "invalid_payload" }),
    );
    expect(() => s.hl.broadcast({ from: 1 } as never)).toThrow(
      expect.objectContaining({ code: "invalid_payload" }),
    );
    conn.send({ from: "a", text: "b" });
    await until(() => client.ofType("message").length === 1, "the valid one");
    expect(client.frames.map((f) => f.type)).toEqual(["welcome", "message"]);
  });

  it("broadcasts to every open connection, or those a filter picks", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock, protocol: chat });
    server = s.hl;
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(s.url)));
    expect(s.hl.broadcast({ from: "s", text: "all" })).toBe(3);
    const second = s.events.connections[1]!.sessionId;
    expect(s.hl.broadcast({ from: "s", text: "one" }, (c) => c.sessionId === second)).toBe(1);
    await until(() => clients[1]!.ofType("message").length === 2, "broadcasts");
    await until(() => clients.every((c) => c.ofType("message").length >= 1), "first broadcast");
    await settle();
    expect(
      clients.map((c) => c.ofType("message").map((m) => (m.data as { text: string }).text)),
    ).toEqual([["all"], ["all", "one"], ["all"]]);
    expect(s.hl.stats().messagesOut).toBe(4);
    expect([...s.hl.connections()]).toHaveLength(3);
  });

  it("conn.close() ends the connection with the app's code, reported once as server_closed", async () => {
    const { client, events, hl } = await setup();
    const conn = events.connections[0]!;
    conn.close(4100, "kicked");
    conn.close();
    expect(await client.closed).toEqual({ code: 4100, reason: "kicked" });
    await until(() => hl.stats().open === 0, "end");
    await settle();
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "server_closed", code: 4100 }),
    ]);
    expect(conn.isOpen).toBe(false);
    expect(conn.send("late")).toBe(false);
    expect(() => conn.close(1006)).toThrow(expect.objectContaining({ code: "invalid_close_code" }));
  });

  it("reports a client's own close as client_closed with its code", async () => {
    const { client, events } = await setup();
    client.ws.close(4321, "bye");
    await until(() => events.disconnects.length === 1, "report");
    expect(events.disconnects[0]).toMatchObject({ reason: "client_closed", code: 4321 });
  });

  it("reports a socket that ends without a close frame as connection_lost, without a code", async () => {
    const { client, events } = await setup();
    client.ws.terminate();
    await until(() => events.disconnects.length === 1, "report");
    expect(events.disconnects[0]!.reason).toBe("connection_lost");
    expect("code" in events.disconnects[0]!).toBe(false);
  });
});

describe("rate limit", () => {
  it("closes a client past its burst with 4429, reported rate_limited", async () => {
    const { client, events, fc } = await setup({ rateLimit: { burst: 5, perSecond: 1 } });
    for (let seq = 0; seq < 5; seq++) client.send({ type: "ping", seq });
    await until(() => client.ofType("pong").length === 5, "five pongs");
    // A second later one token is back.
    await fc.tickAsync(1000);
    client.send({ type: "ping", seq: 5 });
    await until(() => client.ofType("pong").length === 6, "sixth pong");
    client.send({ type: "ping", seq: 6 });
    expect((await client.closed).code).toBe(CloseCode.RateLimited);
    await settle();
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "rate_limited", code: 4429 }),
    ]);
    expect(client.ofType("pong")).toHaveLength(6);
  });

  it("defaults to 100 frames of burst", async () => {
    const { client, events } = await setup();
    for (let seq = 0; seq < 101; seq++) client.send({ type: "ping", seq });
    expect((await client.closed).code).toBe(4429);
    expect(client.ofType("pong")).toHaveLength(100);
    await until(() => events.disconnects.length === 1, "report");
  });

  it("can be disabled", async () => {
    const { client } = await setup({ rateLimit: false });
    for (let seq = 0; seq < 300; seq++) client.send({ type: "ping", seq });
    await until(() => client.ofType("pong").length === 300, "300 pongs");
    expect(client.isClosed).toBe(false);
  });
});

describe("a listener that throws", () => {
  it("neither crashes the server nor leaks the connection; the throw goes to the error event", async () => {
    const { clock, fc } = fakeClock();
    const s = await startServer({
      clock,
      intervalMs: 1000,
      on: {
        connection: () => {
          throw new Error("in connection");
        },
        message: () => {
          throw new Error("in message");
        },
        disconnect: () => {
          throw new Error("in disconnect");
        },
      },
    });
    server = s.hl;
    // Rethrown on a microtask when the error listener throws too: captured here, not left uncaught.
    const rethrown = captureRethrows();
    s.hl.on("error", () => {
      throw new Error("even the error listener throws");
    });
    const client = await TestClient.connect(s.url);
    client.send({ type: "message", data: 1 });
    client.send({ type: "ping", seq: 1 });
    await until(() => client.ofType("pong").length === 1, "pong after the throw");
    await fc.tickAsync(2000 + 1000);
    expect((await client.closed).code).toBe(4000);
    expect(s.events.disconnects.map((d) => d.reason)).toEqual(["timeout"]);
    expect(s.events.errors.map((e) => [e.code, (e.cause as Error).message])).toEqual([
      ["listener_threw", "in connection"],
      ["listener_threw", "in message"],
      ["listener_threw", "in disconnect"],
    ]);
    await Promise.resolve();
    vi.restoreAllMocks();
    // Each original once, and what the error listener threw beside it (never swallowed).
    expect(rethrown.map((e) => (e as Error).message)).toEqual([
      "even the error listener throws",
      "in connection",
      "even the error listener throws",
      "in message",
      "even the error listener throws",
      "in disconnect",
    ]);
    expect(s.hl.stats().open).toBe(0);
  });
});

describe("slow consumer", () => {
  it("closes a client whose outbound queue passes maxBufferedBytes with 1013, server_closed", async () => {
    const { client, events, hl } = await setup({ maxBufferedBytes: 64 * 1024 });
    // The client stops reading; the kernel buffers fill, then ws's queue grows.
    client.ws.pause();
    const conn = events.connections[0]!;
    const chunk = "x".repeat(16 * 1024);
    let sent = 0;
    while (conn.send(chunk)) {
      sent++;
      if (sent > 10_000) throw new Error("never shed");
      if (sent % 64 === 0) await settle(2);
    }
    expect(conn.isOpen).toBe(false);
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "server_closed", code: CloseCode.TryAgainLater }),
    ]);
    expect(hl.stats().disconnects.server_closed).toBe(1);
    client.ws.terminate();
  });
});

describe("stats", () => {
  it("counts open connections, disconnects by reason, messages and frames", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock });
    server = s.hl;
    const a = await TestClient.connect(s.url);
    const b = await TestClient.connect(s.url);
    expect(s.hl.stats()).toMatchObject({ open: 2, accepted: 2, framesOut: 2 });
    a.send({ type: "message", data: 1 });
    a.send({ type: "ping", seq: 0 });
    await until(() => a.ofType("pong").length === 1, "pong");
    b.send("nonsense");
    await b.closed;
    await until(() => s.hl.stats().open === 1, "one open");
    const stats = s.hl.stats();
    expect(stats).toEqual({
      open: 1,
      accepted: 2,
      disconnects: {
        timeout: 0,
        client_closed: 0,
        connection_lost: 0,
        server_closed: 0,
        protocol_error: 1,
        rate_limited: 0,
        replaced: 0,
        unauthorized: 0,
      },
      messagesIn: 1,
      messagesOut: 0,
      framesIn: 3,
      framesOut: 3,
      upgradesRejected: {},
      sessions: { live: 0, detached: 0, resumed: 0, ended: 0 },
      upgradesRejectedByReason: expect.objectContaining({ server_full: 0, not_found: 0 }),
      acceptErrors: 0,
      acceptErrorEpisodes: 0,
      outboundBufferedBytes: 0,
    });
    // A snapshot, not a live view.
    a.ws.close();
    await until(() => s.hl.stats().open === 0, "none open");
    expect(stats.open).toBe(1);
  });
});

// Types: the schema's types flow to listeners and send.
export function typeCheckOnly(
  hl: HeartlineServer<{ text: string }, { from: string; text: string }>,
) {
  hl.on("message", (conn, data) => {
    const text: string = data.text;
    conn.send({ from: "x", text });
    // @ts-expect-error: not the server schema's shape
    conn.send({ text });
  });
}

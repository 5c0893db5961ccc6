// @heartline/server/bun and /deno, each in its own Bun or Deno process
// (tests/support/runtime-server.ts), checked over the wire from here (Node,
// `ws` as the client): the same admission, close codes and reports as the
// `ws` adapter, back-pressure shed with 1013, shutdown, and what each
// runtime cannot do as Node does (asserted, so a runtime that changes shows up).
import { once } from "node:events";
import net from "node:net";
import { CloseCode, DisconnectReason, SUBPROTOCOL } from "@heartline/protocol";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type JsonLinesChild, killAllChildren, type Line } from "./support/json-lines-child.js";
import { connectRaw, within } from "./support/raw-client.js";
import { type RuntimeServer, startRuntimeServer } from "./support/runtime-server-child.js";

afterAll(async () => {
  await killAllChildren();
});

const intervalMs = 150; // a silent client is closed 4000 at 300 ms
const allowedOrigin = "http://allowed.test";

/** The HTTP status line of an upgrade refused before any WebSocket existed, and its headers. */
async function refusedUpgrade(
  url: string,
  init: { protocols?: string[]; origin?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const ws = new WebSocket(url, init.protocols ?? [SUBPROTOCOL], {
    ...(init.origin === undefined ? {} : { origin: init.origin }),
  });
  ws.on("error", () => {});
  const [, response] = (await within(once(ws, "unexpected-response"), 5000, "the refusal")) as [
    unknown,
    { statusCode: number; headers: Record<string, string | string[] | undefined> },
  ];
  ws.terminate();
  return { status: response.statusCode, headers: response.headers };
}

const disconnectOf = (server: JsonLinesChild, sessionId: string): Promise<Line> =>
  server.waitFor(
    `the disconnect of ${sessionId}`,
    (l) => l.type === "disconnect" && l.sessionId === sessionId,
  );

describe.each(["bun", "deno"] as const)("on %s", (runtime) => {
  let server: RuntimeServer;

  it("starts and answers the welcome on heartline.v1, pongs, echoes, and reports a client close", async () => {
    server = await startRuntimeServer(runtime, {
      intervalMs,
      allowedOrigins: [allowedOrigin],
      maxPayload: 1000,
      maxConnectionsPerAddress: 6,
      authenticate: true,
    });
    const c = await connectRaw(server.url);
    expect(c.ws.protocol).toBe(SUBPROTOCOL);
    c.ws.send(JSON.stringify({ type: "ping", seq: 3 }));
    c.ws.send(JSON.stringify({ type: "message", data: { text: "hi" } }));
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (c.frames.length >= 2) resolve();
        };
        c.ws.on("message", check);
        check();
      }),
      5000,
      "pong and echo",
    );
    expect(c.frames).toEqual([
      { type: "pong", seq: 3 },
      { type: "message", data: { echo: { text: "hi" } } },
    ]);
    const connect = await server.waitFor("the connect", (l) => l.type === "connect");
    expect(connect.protocol).toBe(SUBPROTOCOL);
    c.ws.close(CloseCode.Normal);
    expect(await within(c.closed, 5000, "the close")).toBe(CloseCode.Normal);
    const gone = await disconnectOf(server, c.sessionId);
    expect([gone.reason, gone.code]).toEqual([DisconnectReason.ClientClosed, CloseCode.Normal]);
  });

  it("refuses upgrades in the contract's order with the same statuses and reports", async () => {
    const base = `ws://127.0.0.1:${server.port}`;
    const from = server.lines.length;
    expect((await refusedUpgrade(`${base}/elsewhere`)).status).toBe(404);
    expect((await refusedUpgrade(`${base}/ws`, { origin: "http://evil.test" })).status).toBe(403);
    expect((await refusedUpgrade(`${base}/ws`, { protocols: ["other.v9"] })).status).toBe(400);
    expect((await refusedUpgrade(`${base}/ws?auth=deny`)).status).toBe(401);
    const reports = await server.waitForCount("four rejections", (l) => l.type === "rejected", 4, {
      from,
    });
    expect(reports.map((l) => [l.status, l.reason])).toEqual([
      [404, "not_found"],
      [403, "origin_not_allowed"],
      [400, "unsupported_subprotocol"],
      [401, "unauthorized"],
    ]);
    // A plain request (no upgrade) is not a refusal: 426, unreported.
    const plain = await fetch(`http://127.0.0.1:${server.port}/ws`);
    expect(plain.status).toBe(426);
    // An allowed origin and a slow `authenticate` pass.
    const ok = new WebSocket(`${base}/ws?auth=slow`, [SUBPROTOCOL], { origin: allowedOrigin });
    ok.on("error", () => {});
    const [welcome] = (await within(once(ok, "message"), 5000, "a welcome")) as [Buffer];
    expect(JSON.parse(welcome.toString()).type).toBe("welcome");
    ok.close();
    expect(server.lines.slice(from).filter((l) => l.type === "rejected")).toHaveLength(4);
  });

  it("refuses past maxConnectionsPerAddress with 429 and Retry-After, and takes one again once a place is free", async () => {
    const open = await Promise.all(Array.from({ length: 6 }, () => connectRaw(server.url)));
    const refused = await refusedUpgrade(server.url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    await server.waitFor("the address_limit report", (l) => l.reason === "address_limit");
    open[0]!.ws.close();
    await disconnectOf(server, open[0]!.sessionId);
    const again = await connectRaw(server.url);
    for (const c of [...open.slice(1), again]) c.ws.close();
    await Promise.all([...open.slice(1), again].map((c) => disconnectOf(server, c.sessionId)));
  });

  it("closes a silent client with 4000 at 2X and reports it timeout", async () => {
    const c = await connectRaw(server.url);
    const connect = await server.waitFor("its connect", (l) => l.sessionId === c.sessionId);
    expect(await within(c.closed, 5000, "the 4000")).toBe(CloseCode.HeartbeatTimeout);
    const gone = await disconnectOf(server, c.sessionId);
    expect([gone.reason, gone.code]).toEqual([
      DisconnectReason.Timeout,
      CloseCode.HeartbeatTimeout,
    ]);
    // Real time on a loaded machine: never early; late by less than a second.
    const silentFor = (gone.t as number) - (connect.t as number);
    expect(silentFor).toBeGreaterThanOrEqual(2 * intervalMs);
    expect(silentFor).toBeLessThan(2 * intervalMs + 1000);
  });

  it("closes 1009 past maxPayload and 1003 on a binary frame, each reported protocol_error once", async () => {
    for (const [frame, code] of [
      [JSON.stringify({ type: "message", data: "x".repeat(1001) }), CloseCode.MessageTooBig],
      [new Uint8Array([1, 2, 3]), CloseCode.UnsupportedData],
    ] as const) {
      const c = await connectRaw(server.url);
      c.ws.send(frame);
      expect(await within(c.closed, 5000, "the close")).toBe(code);
      const gone = await disconnectOf(server, c.sessionId);
      expect([gone.reason, gone.code]).toEqual([DisconnectReason.ProtocolError, code]);
    }
    expect(server.lines.filter((l) => l.type === "disconnect")).toHaveLength(
      new Set(server.lines.filter((l) => l.type === "disconnect").map((l) => l.sessionId)).size,
    );
  });

  it("invalid UTF-8: reported protocol_error 1007; the peer sees 1007 on Bun, and no close frame (1006) on Deno", async () => {
    const c = await connectRaw(server.url);
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    // Deno drops the socket itself on invalid UTF-8, before the adapter sees anything.
    const seen = runtime === "bun" ? CloseCode.InvalidPayload : 1006;
    expect(await within(c.closed, 5000, "the close")).toBe(seen);
    const gone = await disconnectOf(server, c.sessionId);
    expect([gone.reason, gone.code]).toEqual([DisconnectReason.ProtocolError, 1007]);
  });

  it("sheds a client that stops reading with 1013 (back-pressure), reported once", async () => {
    const slow = await startRuntimeServer(runtime, {
      intervalMs: 5000,
      maxBufferedBytes: 256 * 1024,
    });
    const c = await connectRaw(slow.url);
    // Stop reading: the kernel buffers fill, then the runtime's own queue grows.
    (c.ws as unknown as { _socket: net.Socket })._socket.pause();
    // 32 MiB in 64 KiB messages: far past what loopback's socket buffers hold.
    await slow.request("flood", { count: 512, bytes: 64 * 1024 }, 20_000);
    const gone = await disconnectOf(slow, c.sessionId);
    expect([gone.reason, gone.code]).toEqual([
      DisconnectReason.ServerClosed,
      CloseCode.TryAgainLater,
    ]);
    // Reading again, the client gets what was queued, then the 1013.
    (c.ws as unknown as { _socket: net.Socket })._socket.resume();
    expect(await within(c.closed, 10_000, "the 1013")).toBe(CloseCode.TryAgainLater);
    expect(slow.lines.filter((l) => l.type === "disconnect")).toHaveLength(1);
    await slow.kill();
  });

  it("answers a ping flood itself: no 1008 as the ws adapter gives on Node (documented)", async () => {
    const c = await connectRaw(server.url);
    const socket = (c.ws as unknown as { _socket: net.Socket })._socket;
    // Not reading: on Node, 60 unflushed pongs close the connection with 1008.
    socket.pause();
    for (let i = 0; i < 500; i++) c.ws.ping();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.resume();
    c.ws.send(JSON.stringify({ type: "ping", seq: 9 }));
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (c.frames.some((f) => (f as { seq?: number }).seq === 9)) resolve();
        };
        c.ws.on("message", check);
        check();
      }),
      5000,
      "the pong after the flood",
    );
    expect(server.lines.some((l) => l.type === "disconnect" && l.sessionId === c.sessionId)).toBe(
      false,
    );
    c.ws.close();
    await disconnectOf(server, c.sessionId);
  });

  it("shuts down with goodbye and 1001 to every client, each reported server_closed", async () => {
    const clients = await Promise.all([connectRaw(server.url), connectRaw(server.url)]);
    await server.request("close");
    for (const c of clients) {
      expect(await within(c.closed, 5000, "the 1001")).toBe(CloseCode.GoingAway);
      expect(c.frames[0]).toMatchObject({ type: "goodbye" });
      const gone = await disconnectOf(server, c.sessionId);
      expect([gone.reason, gone.code]).toEqual([
        DisconnectReason.ServerClosed,
        CloseCode.GoingAway,
      ]);
    }
    expect(await within(server.exit, 5000, "the exit")).toEqual({ code: 0, signal: null });
  });

  it(
    runtime === "bun"
      ? "drops a timed-out client right after the 4000 close frame (Bun never waits for the peer's close)"
      : "cannot drop a timed-out client that never answers the close: the TCP socket stays open (documented)",
    async () => {
      const s = await startRuntimeServer(runtime, { intervalMs: 100, closeTimeoutMs: 300 });
      // A raw client: handshake, then read everything but never answer a close frame.
      const socket = net.connect(s.port, "127.0.0.1");
      await once(socket, "connect");
      socket.write(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${SUBPROTOCOL}\r\n\r\n`,
      );
      let received = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
      });
      const ended = new Promise<number>((resolve) =>
        socket.once("close", () => resolve(Date.now())),
      );
      socket.on("error", () => {});
      const gone = await s.waitFor("the timeout", (l) => l.type === "disconnect");
      expect([gone.reason, gone.code]).toEqual([
        DisconnectReason.Timeout,
        CloseCode.HeartbeatTimeout,
      ]);
      // The 4000 close frame went out (0x88, then the code).
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (received.includes(Buffer.from([0x88, 0x09, 0x0f, 0xa0]))) resolve();
          };
          socket.on("data", check);
          check();
        }),
        5000,
        "the 4000 close frame",
      );
      if (runtime === "bun") {
        await within(ended, 2000, "the socket dropped");
      } else {
        // Deno waits for the close frame that never comes: still open a second later.
        const early = await Promise.race([
          ended,
          new Promise((r) => setTimeout(() => r("open"), 1000)),
        ]);
        expect(early).toBe("open");
      }
      socket.destroy();
      await s.kill();
    },
  );
});

// The echo server in-process on 127.0.0.1, port 0, with a Node client: the
// echo, the event lines, the HTTP routes, and shutdown with 1001. (The page
// itself is tested in Chromium: tests/browser-echo.test.ts.)
import { createClient, type DisconnectEvent } from "@heartline/client";
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildPage } from "../build-page.js";
import { type EchoEvent, type EchoServer, startEchoServer } from "../echo-server.js";

const servers: EchoServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(
  events: EchoEvent[] = [],
  extra: Partial<Parameters<typeof startEchoServer>[0]> = {},
) {
  const server = await startEchoServer({
    ...extra,
    port: 0,
    intervalMs: 1000,
    reconnectWindow: { minMs: 0, maxMs: 0 },
    on: { connect: (e) => events.push(e), disconnect: (e) => events.push(e) },
  });
  servers.push(server);
  return server;
}

function next<T>(subscribe: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve) => subscribe(resolve));
}

describe("startEchoServer", () => {
  beforeAll(async () => {
    await buildPage();
  }, 30_000);

  it("serves the page, its stylesheet and its bundle, and nothing else", async () => {
    const server = await start();
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    for (const id of [
      "status",
      "url",
      "connect",
      "message",
      "send",
      "close",
      "log",
      "pause-heartbeats",
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    expect((await fetch(new URL("/style.css", server.url))).status).toBe(200);
    const bundle = await fetch(new URL("/page.js", server.url));
    expect(bundle.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await bundle.text()).toContain("heartline.v1");
    expect((await fetch(new URL("/../package.json", server.url))).status).toBe(404);
    expect((await fetch(new URL("/ws", server.url))).status).toBe(426);
    expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
  });

  it("echoes every message to its sender and reports connect and disconnect once each", async () => {
    const events: EchoEvent[] = [];
    const server = await start(events);
    const client = createClient({ url: `${server.url.replace("http", "ws")}ws`, reconnect: false });
    const opened = next<{ sessionId: string }>((resolve) => client.on("open", resolve));
    client.connect();
    const { sessionId } = await opened;
    const echoed: unknown[] = [];
    const twoEchoes = next<void>((resolve) =>
      client.on("message", (data) => {
        echoed.push(data);
        if (echoed.length === 2) resolve();
      }),
    );
    client.send("hello");
    client.send({ nested: [1, null] });
    await twoEchoes;
    expect(echoed).toEqual(["hello", { nested: [1, null] }]);

    const gone = next<DisconnectEvent>((resolve) => client.on("disconnect", resolve));
    client.close();
    await gone;
    await expect.poll(() => events.length).toBe(2);
    expect(events).toEqual([
      { event: "connect", sessionId, at: expect.any(String) },
      {
        event: "disconnect",
        sessionId,
        reason: DisconnectReason.ClientClosed,
        code: CloseCode.Normal,
        at: expect.any(String),
      },
    ]);
  });

  it("close() sends every client goodbye and 1001, and is idempotent", async () => {
    const server = await start();
    const client = createClient({ url: `${server.url.replace("http", "ws")}ws`, reconnect: false });
    const opened = next<unknown>((resolve) => client.on("open", resolve));
    client.connect();
    await opened;
    const gone = next<DisconnectEvent>((resolve) => client.on("disconnect", resolve));
    await Promise.all([server.close(), server.close()]);
    expect(await gone).toMatchObject({
      reason: DisconnectReason.ServerClosed,
      code: CloseCode.GoingAway,
    });
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it("lets the page's own origin in by default, refuses another with 403, and applies MAX_CONNECTIONS", async () => {
    const { request } = await import("node:http");
    const server = await start([], { maxConnections: 1 });
    const held: { destroy(): void }[] = [];
    const status = (origin: string) =>
      new Promise<number>((resolve) => {
        const req = request(`${server.url}ws`, {
          headers: {
            origin,
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            "sec-websocket-version": "13",
          },
        });
        req.on("upgrade", (_res, socket) => {
          held.push(socket);
          resolve(101);
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? -1);
        });
        req.on("error", () => {});
        req.end();
      });
    expect(await status("https://evil.example")).toBe(403);
    expect(await status(server.url.replace(/\/$/, ""))).toBe(101);
    expect(await status(server.url.replace(/\/$/, ""))).toBe(503);
    for (const socket of held) socket.destroy();
  });
});

// Issue 15's abuse probes as fault cases, each against a real standalone
// server on loopback, bounded in count and time (a few seconds at most):
// capacity from one address, a cross-site origin with a cookie, an
// authenticate that never settles, slow HTTP headers, a control-ping burst,
// and handshakes RFC 6455 does not allow. (Non-reading clients and
// descriptor exhaustion have cases of their own: fault-non-readers,
// fault-descriptors.)
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { DisconnectReason, SUBPROTOCOL } from "@heartline/protocol";
import {
  createServer,
  type DisconnectInfo,
  type ServerOptions,
  type UpgradeRejection,
} from "@heartline/server";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { within } from "./support/raw-client.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(options: ServerOptions<unknown, unknown, unknown> = {}) {
  const rejections: UpgradeRejection[] = [];
  const disconnects: DisconnectInfo<unknown>[] = [];
  const hl = createServer({
    port: 0,
    host: "127.0.0.1",
    intervalMs: 500,
    ...options,
    on: { upgradeRejected: (r) => rejections.push(r), disconnect: (d) => disconnects.push(d) },
  });
  closers.push(() => hl.close());
  await hl.listening;
  const { port } = hl.address() as AddressInfo;
  return { hl, port, url: `ws://127.0.0.1:${port}/ws`, rejections, disconnects };
}

/** One upgrade attempt: its HTTP refusal, or "open" once the welcome came (the socket is then closed). */
function attempt(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<{ status: number; headers: IncomingMessage["headers"] } | "open" | "failed"> {
  return within(
    new Promise((resolve) => {
      const ws = new WebSocket(url, SUBPROTOCOL, options);
      ws.on("error", () => resolve("failed"));
      ws.once("unexpected-response", (_req, res) => {
        resolve({ status: res.statusCode ?? -1, headers: res.headers });
        ws.terminate();
      });
      ws.once("message", () => {
        resolve("open");
        ws.terminate();
      });
    }),
    5000,
    "the upgrade's answer",
  );
}

/** Writes `head` (and `more`) on a raw socket; resolves with all it got when the server ends it. */
function raw(port: number, head: string, more?: Buffer): Promise<string> {
  return within(
    new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.write(head);
        if (more !== undefined) socket.write(more);
      });
      const chunks: Buffer[] = [];
      socket.on("data", (c) => chunks.push(c));
      socket.on("error", () => {});
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    }),
    5000,
    "the server ending the socket",
  );
}

const head = (port: number, first = "GET /ws HTTP/1.1", host = true): string =>
  `${first}\r\n${host ? `Host: 127.0.0.1:${port}\r\n` : ""}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** A connection held open from `localAddress`, once its welcome came. */
function hold(url: string, localAddress: string): Promise<WebSocket> {
  return within(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, SUBPROTOCOL, { localAddress });
      ws.on("error", reject);
      ws.once("message", () => resolve(ws));
    }),
    5000,
    "a welcome",
  );
}

describe("abuse probes (issue 15)", () => {
  it("one address holding connections: 429 past maxConnectionsPerAddress, 503 past maxConnections, other addresses carry on", async () => {
    const s = await start({ maxConnections: 8, maxConnectionsPerAddress: 5 });
    const held: WebSocket[] = [];
    for (let i = 0; i < 5; i++) held.push(await hold(s.url, "127.0.0.1"));
    expect(await attempt(s.url, { localAddress: "127.0.0.1" })).toMatchObject({
      status: 429,
      headers: { "retry-after": "10" },
    });
    for (let i = 0; i < 3; i++) held.push(await hold(s.url, "127.0.0.2"));
    expect(await attempt(s.url, { localAddress: "127.0.0.3" })).toMatchObject({
      status: 503,
      headers: { "retry-after": "10" },
    });
    expect(s.rejections.map((r) => [r.status, r.reason, r.remoteAddress])).toEqual([
      [429, "address_limit", "127.0.0.1"],
      [503, "server_full", "127.0.0.3"],
    ]);
    expect(s.hl.stats().open).toBe(8);
    expect(s.disconnects).toEqual([]);
    for (const ws of held) ws.terminate();
  });

  it("a cross-site Origin with a cookie gets 403 by default; the same origin and no Origin connect", async () => {
    const s = await start();
    const evil = await attempt(s.url, {
      headers: { origin: "https://evil.example", cookie: "session=stolen" },
    });
    expect(evil).toMatchObject({ status: 403 });
    expect(s.rejections).toEqual([
      { status: 403, reason: "origin_not_allowed", remoteAddress: "127.0.0.1" },
    ]);
    expect(await attempt(s.url, { headers: { origin: `http://127.0.0.1:${s.port}` } })).toBe(
      "open",
    );
    expect(await attempt(s.url)).toBe("open");
  });

  it("an authenticate that never settles: 20 upgrades all answered 401 at authenticateTimeoutMs, none left hanging", async () => {
    const s = await start({
      authenticateTimeoutMs: 300,
      authenticate: () => new Promise<false>(() => {}),
    });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, () => attempt(s.url)));
    expect(answers.every((a) => typeof a === "object" && a.status === 401)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(s.rejections).toHaveLength(20);
    expect(s.rejections.every((r) => r.reason === "authenticate_timeout")).toBe(true);
    expect(s.hl.stats().upgradesRejectedByReason.authenticate_timeout).toBe(20);
  });

  it("slow HTTP headers in standalone mode are dropped (headersTimeoutMs), and the server keeps serving", async () => {
    const s = await start({ headersTimeoutMs: 200 });
    const started = Date.now();
    await raw(s.port, "GET /ws HTTP/1.1\r\nHost: x\r\n");
    // Node's own HTTP timer (checked on its interval), not a Heartline one: bounded, not exact.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await attempt(s.url)).toBe("open");
  });

  it("a burst of 200 control pings is closed with a close frame 1008, reported protocol_error once", async () => {
    const s = await start();
    const ping = Buffer.from([0x89, 0x80, 0, 0, 0, 0]);
    const answer = await raw(s.port, head(s.port), Buffer.concat(Array(200).fill(ping)));
    expect(answer.startsWith("HTTP/1.1 101")).toBe(true);
    // A close frame: opcode 0x88, its length (code and reason), then the code 1008 (0x03f0).
    const close = answer.indexOf("\x88", answer.indexOf("\r\n\r\n"));
    expect(close).toBeGreaterThan(0);
    expect(answer.charCodeAt(close + 2) * 256 + answer.charCodeAt(close + 3)).toBe(1008);
    await within(
      new Promise<void>((resolve) => {
        const look = () => (s.disconnects.length > 0 ? resolve() : setTimeout(look, 10));
        look();
      }),
      3000,
      "the disconnect",
    );
    expect(s.disconnects).toEqual([
      expect.objectContaining({ reason: DisconnectReason.ProtocolError, code: 1008 }),
    ]);
  });

  it("HTTP/1.0 and missing-Host upgrades get 400, a POST 405 with Allow: GET, each reported once", async () => {
    const s = await start();
    expect(await raw(s.port, head(s.port, "GET /ws HTTP/1.0"))).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(s.port, head(s.port, "GET /ws HTTP/1.1", false))).toMatch(/^HTTP\/1\.1 400/);
    const post = await raw(s.port, head(s.port, "POST /ws HTTP/1.1"));
    expect(post).toMatch(/^HTTP\/1\.1 405/);
    expect(post).toMatch(/\r\nAllow: GET\r\n/i);
    expect(s.rejections.map((r) => [r.status, r.reason])).toEqual([
      [400, "invalid_handshake"],
      [400, "invalid_handshake"],
      [405, "invalid_handshake"],
    ]);
  });
});

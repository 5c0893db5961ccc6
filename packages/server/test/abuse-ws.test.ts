// Issue 15 point 4 in the `ws` adapter, over raw loopback sockets: HTTP/1.0
// and a missing Host refused 400 before the upgrade checks, `Allow` on 405,
// 1008 reported as 1008, a control-ping flood closed with a close frame.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { settle, startServer, TestClient, until } from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  closers.push(() => s.hl.close());
  return s;
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Writes `head` on a raw socket and collects everything until the server ends it. */
function rawExchange(port: number, head: string, then?: (s: net.Socket) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(head);
      then?.(socket);
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    setTimeout(() => {
      socket.destroy();
      reject(new Error("the server did not end the socket"));
    }, 5000).unref();
  });
}

function upgradeHead(port: number, parts: { version?: string; host?: boolean; method?: string }) {
  return (
    `${parts.method ?? "GET"} /ws HTTP/${parts.version ?? "1.1"}\r\n` +
    (parts.host === false ? "" : `Host: 127.0.0.1:${port}\r\n`) +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** A masked client frame (mask 0: the payload goes as it is). */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  return Buffer.concat([
    Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length, 0, 0, 0, 0]),
    payload,
  ]);
}

/** The close code in the first close frame the server sent, if any. */
function closeCodeIn(bytes: Buffer): number | undefined {
  const start = bytes.indexOf("\r\n\r\n") + 4;
  for (let i = start; i + 1 < bytes.length; ) {
    const opcode = bytes[i]! & 0x0f;
    const length = bytes[i + 1]! & 0x7f;
    const header = length === 126 ? 4 : 2;
    const size = length === 126 ? bytes.readUInt16BE(i + 2) : length;
    if (opcode === 0x8) return bytes.readUInt16BE(i + header);
    i += header + size;
  }
  return undefined;
}

describe("handshakes RFC 6455 does not allow", () => {
  it.each([
    ["over HTTP/1.0", { version: "1.0" }],
    ["without Host", { host: false }],
  ])(
    "an upgrade %s is refused 400 (invalid_handshake), before the upgrade checks",
    async (_name, parts) => {
      // An allow-list the request would fail: the 400 comes first.
      const { port, events } = await start({ allowedOrigins: ["https://app.example"] });
      const answer = await rawExchange(port, upgradeHead(port, parts));
      expect(answer.toString()).toMatch(/^HTTP\/1\.1 400 /);
      await until(() => events.rejections.length === 1, "the rejection report");
      expect(events.rejections).toEqual([
        { status: 400, reason: "invalid_handshake", remoteAddress: "127.0.0.1" },
      ]);
    },
  );

  it("a POST upgrade gets 405 with Allow: GET", async () => {
    const { port, events } = await start();
    const answer = (await rawExchange(port, upgradeHead(port, { method: "POST" }))).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(answer).toMatch(/\r\nAllow: GET\r\n/i);
    await until(() => events.rejections.length === 1, "the rejection report");
    expect(events.rejections[0]).toMatchObject({ status: 405, reason: "invalid_handshake" });
  });
});

describe("authenticate's signal over a real socket", () => {
  it("aborts when the client closes its socket while the hook runs; nothing is reported", async () => {
    const signals: AbortSignal[] = [];
    const { port, events } = await start({
      authenticate: (_req, { signal }) => {
        signals.push(signal);
        return new Promise<undefined>(() => {});
      },
      authenticateTimeoutMs: 60_000,
    });
    const socket = net.connect(port, "127.0.0.1", () => socket.write(upgradeHead(port, {})));
    socket.on("error", () => {});
    await until(() => signals.length === 1, "authenticate to be called");
    expect(signals[0]!.aborted).toBe(false);
    socket.destroy();
    await until(() => signals[0]!.aborted, "the signal to abort");
    expect(events.rejections).toEqual([]);
    expect(events.connections).toEqual([]);
  });
});

describe("bytes that arrive while authenticate runs", () => {
  it("are kept and read after the upgrade: a ping sent early is answered after the welcome", async () => {
    let pass: (auth: undefined) => void = () => {};
    let called = false;
    const { port } = await start({
      authenticate: () => {
        called = true;
        return new Promise<undefined>((resolve) => {
          pass = resolve;
        });
      },
    });
    const received: Buffer[] = [];
    const socket = net.connect(port, "127.0.0.1", () => socket.write(upgradeHead(port, {})));
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("error", () => {});
    await until(() => called, "authenticate to be called");
    socket.write(frame(0x1, Buffer.from('{"type":"ping","seq":7}')));
    await settle();
    pass(undefined);
    await until(() => Buffer.concat(received).includes('{"type":"pong","seq":7}'), "the pong");
    const text = Buffer.concat(received).toString();
    expect(text.indexOf('"welcome"')).toBeLessThan(text.indexOf('"pong"'));
    socket.destroy();
  });
});

describe("policy violations of the WebSocket layer", () => {
  it("a message in more than 16,384 fragments closes 1008, reported protocol_error with 1008", async () => {
    const { port, events } = await start();
    const fragments = [frame(0x1, Buffer.from("a"), false)];
    for (let i = 0; i < 16_385; i++) fragments.push(frame(0x0, Buffer.alloc(0), false));
    const answer = await rawExchange(port, upgradeHead(port, {}), (s) =>
      s.write(Buffer.concat(fragments)),
    );
    expect(closeCodeIn(answer)).toBe(1008);
    await until(() => events.disconnects.length === 1, "the disconnect");
    expect(events.disconnects[0]).toMatchObject({ reason: "protocol_error", code: 1008 });
  });

  it("a burst of control pings past the bound is closed with a close frame 1008, reported protocol_error once", async () => {
    const { port, events, url } = await start();
    const burst = Buffer.concat(Array.from({ length: 200 }, () => frame(0x9, Buffer.alloc(0))));
    const answer = await rawExchange(port, upgradeHead(port, {}), (s) => s.write(burst));
    expect(closeCodeIn(answer)).toBe(1008);
    await until(() => events.disconnects.length === 1, "the disconnect");
    expect(events.disconnects).toEqual([
      expect.objectContaining({ reason: "protocol_error", code: 1008 }),
    ]);
    // A client pinging at a sane pace is answered (pongs are ours now, not ws's).
    const ok = await TestClient.connect(url);
    let pongs = 0;
    ok.ws.on("pong", () => pongs++);
    for (let i = 0; i < 10; i++) ok.ws.ping();
    await until(() => pongs === 10, "ten pongs");
  });
});

describe("standalone HTTP timeouts", () => {
  it("drops a connection whose request headers never finish (headersTimeoutMs, Node's own timer)", async () => {
    // Node's HTTP timer, not a Heartline one: there is no clock to inject, so this is wired-up, not boundary, evidence.
    const { port } = await start({ headersTimeoutMs: 200 });
    const started = Date.now();
    await rawExchange(port, "GET /ws HTTP/1.1\r\nHost: x\r\n");
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

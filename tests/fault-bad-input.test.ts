// Case 5: bad input at the wire, against a live server process. Each bad
// frame or refused upgrade gets the contract's answer and is reported once,
// and the server keeps serving; then fast-check throws random frames at it.
import net from "node:net";
import { CloseCode, DisconnectReason, decodeClientFrame, SUBPROTOCOL } from "@heartline/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { killAllChildren } from "./support/json-lines-child.js";
import { report } from "./support/measure.js";
import { connectRaw, within } from "./support/raw-client.js";
import { reportedTwice, type ServerChild, startServerChild } from "./support/server-child.js";

const intervalMs = 100; // X: a silent connection is reported after 200 ms
const allowedOrigin = "http://allowed.test";
const maxPayload = 64 * 1024; // the default, stated
const oversized = JSON.stringify({ type: "message", data: "x".repeat(maxPayload + 1) });

let server: ServerChild;

beforeAll(async () => {
  server = await startServerChild({ port: 0, intervalMs, allowedOrigins: [allowedOrigin] });
}, 40_000);

afterAll(async () => {
  await killAllChildren();
});

/** The server still serves: a new client gets its welcome and a pong. */
async function stillServing(): Promise<void> {
  const c = await connectRaw(server.url);
  c.ws.send(JSON.stringify({ type: "ping", seq: 7 }));
  await within(new Promise<void>((resolve) => c.ws.on("message", () => resolve())), 5000, "a pong");
  expect(c.frames).toContainEqual({ type: "pong", seq: 7 });
  c.ws.close(CloseCode.Normal);
  expect((await server.disconnectOf(c.sessionId)).reason).toBe(DisconnectReason.ClientClosed);
}

describe("bad frames get the contract's close code and one protocol_error report", () => {
  const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
  it.each([
    ["invalid JSON", "hello", CloseCode.BadMessage],
    ["not an object", "[]", CloseCode.BadMessage],
    ["no type", '{"seq":3}', CloseCode.BadMessage],
    ["an unknown type", '{"type":"dance"}', CloseCode.BadMessage],
    ["a negative seq", '{"type":"ping","seq":-1}', CloseCode.BadMessage],
    ["a fractional seq", '{"type":"ping","seq":1.5}', CloseCode.BadMessage],
    ["a seq past 2^53 − 1", '{"type":"ping","seq":9007199254740992}', CloseCode.BadMessage],
    ["a missing seq", '{"type":"ping"}', CloseCode.BadMessage],
    ["a message without data", '{"type":"message"}', CloseCode.BadMessage],
    ["a server-only type", '{"type":"pong","seq":1}', CloseCode.BadMessage],
    ["a binary frame", new Uint8Array([1, 2, 3]), CloseCode.UnsupportedData],
    ["invalid UTF-8 in a text frame", invalidUtf8, CloseCode.InvalidPayload],
    ["a frame over maxPayload", oversized, CloseCode.MessageTooBig],
  ] as const)("%s", async (_name, frame, code) => {
    const c = await connectRaw(server.url);
    if (typeof frame === "string") c.ws.send(frame);
    else c.ws.send(frame, { binary: frame !== invalidUtf8 });
    expect(await within(c.closed, 5000, "the close")).toBe(code);
    const gone = await server.disconnectOf(c.sessionId);
    expect(gone).toMatchObject({ reason: DisconnectReason.ProtocolError, code });
    expect(server.disconnects().filter((d) => d.sessionId === c.sessionId)).toHaveLength(1);
    await stillServing();
  });

  it("data refused by the app schema gets a soft invalid_payload error; the connection stays", async () => {
    const c = await connectRaw(server.url);
    c.ws.send(JSON.stringify({ type: "message", data: { reject: true } }));
    c.ws.send(JSON.stringify({ type: "ping", seq: 1 }));
    await within(
      new Promise<void>((resolve) => c.ws.on("message", () => c.frames.length >= 2 && resolve())),
      5000,
      "the error and the pong",
    );
    expect(c.frames[0]).toMatchObject({ type: "error", code: "invalid_payload" });
    expect(c.frames[1]).toEqual({ type: "pong", seq: 1 });
    expect(server.disconnects().filter((d) => d.sessionId === c.sessionId)).toEqual([]);
    c.ws.close(CloseCode.Normal);
    expect(await server.disconnectOf(c.sessionId)).toMatchObject({
      reason: DisconnectReason.ClientClosed,
      code: CloseCode.Normal,
    });
  });

  it("a client that upgrades and then says nothing is closed 4000 and reported timeout once", async () => {
    const c = await connectRaw(server.url);
    expect(await within(c.closed, 5000, "the close")).toBe(CloseCode.HeartbeatTimeout);
    const gone = await server.disconnectOf(c.sessionId);
    expect(gone).toMatchObject({ reason: DisconnectReason.Timeout, code: 4000 });
    expect(server.disconnects().filter((d) => d.sessionId === c.sessionId)).toHaveLength(1);
  });
});

describe("refused upgrades get their HTTP status and one upgradeRejected report", () => {
  const refusedWith = (url: string, protocols: string[], headers: Record<string, string> = {}) =>
    within(
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, protocols, { headers });
        ws.on("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? -1);
          ws.terminate();
        });
        ws.on("open", () => reject(new Error("the upgrade was accepted")));
        ws.on("error", () => {});
      }),
      5000,
      "the HTTP answer",
    );

  it.each([
    [
      "a forbidden origin",
      "/ws",
      [SUBPROTOCOL],
      { origin: "http://evil.test" },
      403,
      "origin_not_allowed",
    ],
    ["a refused authenticate", "/ws?auth=deny", [SUBPROTOCOL], {}, 401, "unauthorized"],
    ["a wrong path", "/nope", [SUBPROTOCOL], {}, 404, "not_found"],
    ["no heartline.v1 among the subprotocols", "/ws", ["chat"], {}, 400, "unsupported_subprotocol"],
  ] as const)("%s", async (_name, path, protocols, headers, status, reason) => {
    const from = server.lines.length;
    const url = `ws://127.0.0.1:${server.port}${path}`;
    expect(await refusedWith(url, [...protocols], headers)).toBe(status);
    const rejected = await server.waitFor("the report", (l) => l.type === "rejected", { from });
    expect(rejected).toMatchObject({ status, reason });
    await stillServing();
    // Once: nothing else was reported for it, and no session was created.
    const since = server.lines.slice(from);
    expect(since.filter((l) => l.type === "rejected")).toHaveLength(1);
    expect(since.filter((l) => l.type === "connect")).toHaveLength(1); // stillServing's
  });

  it("an allowed origin passes", async () => {
    const ws = new WebSocket(server.url, SUBPROTOCOL, { headers: { origin: allowedOrigin } });
    const data = await within(
      new Promise<Buffer>((resolve) => ws.once("message", (frame: Buffer) => resolve(frame))),
      5000,
      "the welcome",
    );
    const welcome = JSON.parse(data.toString()) as { type: string; sessionId: string };
    expect(welcome.type).toBe("welcome");
    ws.terminate();
    await server.disconnectOf(welcome.sessionId);
  });

  it("a client that never completes the HTTP upgrade creates no session and blocks nobody", async () => {
    const from = server.lines.length;
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    // Half a request: the headers never end.
    socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\n`);
    await stillServing();
    await stillServing();
    socket.destroy();
    // A round trip after the destroy, so anything it caused has been printed.
    await stillServing();
    const since = server.lines.slice(from);
    expect(since.filter((l) => l.type === "connect")).toHaveLength(3);
    expect(since.filter((l) => l.type === "rejected" || l.type === "error")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

type Frame = { text: string } | { binary: Uint8Array };
type Ending = "close" | "terminate" | "silent";
interface Run {
  frames: Frame[];
  ending: Ending;
  /**
   * Wait for the server to have handled every frame (a ping's pong, or its
   * close) before the ending. Without it, a terminate races the frames still
   * in flight: the kernel may reset the connection before the server read
   * them, so `connection_lost` is then a correct report too.
   */
  settle: boolean;
}
interface Expected {
  reason: string;
  code?: number;
}

/** What the contract says the server reports for this run: the first bad frame decides. */
function expectedReport(frames: readonly Frame[], ending: Ending): Expected {
  for (const frame of frames) {
    if ("binary" in frame)
      return { reason: DisconnectReason.ProtocolError, code: CloseCode.UnsupportedData };
    if (Buffer.byteLength(frame.text) > maxPayload)
      return { reason: DisconnectReason.ProtocolError, code: CloseCode.MessageTooBig };
    if (!decodeClientFrame(frame.text).ok)
      return { reason: DisconnectReason.ProtocolError, code: CloseCode.BadMessage };
  }
  if (ending === "close") return { reason: DisconnectReason.ClientClosed, code: CloseCode.Normal };
  if (ending === "terminate") return { reason: DisconnectReason.ConnectionLost };
  return { reason: DisconnectReason.Timeout, code: CloseCode.HeartbeatTimeout };
}

const seqs = fc.oneof(
  fc.nat(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, 2 ** 53 - 1, 2 ** 53, -1, 1.5, "1", null, true),
);
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  // Valid frames (most of them, so that many runs get to their ending)…
  {
    weight: 12,
    arbitrary: fc
      .maxSafeNat()
      .map((seq) => ({ text: JSON.stringify({ type: "ping", seq, extra: "ignored" }) })),
  },
  // …and everything else, valid or not by chance.
  { weight: 4, arbitrary: seqs.map((seq) => ({ text: JSON.stringify({ type: "ping", seq }) })) },
  {
    weight: 3,
    arbitrary: fc
      .jsonValue({ maxDepth: 3 })
      .map((data) => ({ text: JSON.stringify({ type: "message", data }) })),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 2 }).map((text) => ({ text })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom("ping", "pong", "message", "welcome", "error", "goodbye", "dance", ""),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), {
          maxKeys: 3,
        }),
      )
      .map(([type, fields]) => ({ text: JSON.stringify({ ...fields, type }) })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }).map((binary) => ({ binary })) },
  { weight: 1, arbitrary: fc.constant({ text: oversized }) },
);
const endingArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Ending>("close") },
  { weight: 4, arbitrary: fc.constant<Ending>("terminate") },
  { weight: 1, arbitrary: fc.constant<Ending>("silent") },
);

/** Pings until the server answered one or closed: every earlier frame was handled. */
async function settled(ws: WebSocket, closed: Promise<number>): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return;
  const answered = new Promise<void>((resolve) => {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary && String(data) === '{"type":"pong","seq":424242}') resolve();
    });
  });
  ws.send(JSON.stringify({ type: "ping", seq: 424242 }));
  await within(Promise.race([answered, closed]), 5000, "the settling pong or close");
}

describe("fuzz: random frames at a live server", () => {
  it("never crashes, reports every connection exactly once, with the contract's reason", async () => {
    const from = server.lines.length;
    const sessions: string[] = [];
    const startedAt = Date.now();
    await fc.assert(
      fc.asyncProperty(
        fc.record<Run>({
          frames: fc.array(frameArb, { minLength: 1, maxLength: 5 }),
          ending: endingArb,
          settle: fc.boolean(),
        }),
        async ({ frames, ending, settle }) => {
          const c = await connectRaw(server.url);
          sessions.push(c.sessionId);
          for (const frame of frames) {
            if (c.ws.readyState !== WebSocket.OPEN) break;
            if ("text" in frame) c.ws.send(frame.text);
            else c.ws.send(frame.binary, { binary: true });
          }
          if (settle) await settled(c.ws, c.closed);
          if (ending === "close") c.ws.close(CloseCode.Normal);
          if (ending === "terminate") c.ws.terminate();
          const gone = await server.disconnectOf(c.sessionId, 5000);
          c.ws.terminate();
          const got = { reason: gone.reason, code: gone.code };
          const expected = { code: undefined, ...expectedReport(frames, ending) };
          if (!settle && ending === "terminate" && got.reason === DisconnectReason.ConnectionLost)
            return;
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300, interruptAfterTimeLimit: 60_000 },
    );
    await stillServing();
    expect(server.exited).toBe(false);
    const since = server.lines.slice(from);
    expect(reportedTwice(since, "disconnect")).toEqual([]);
    expect(reportedTwice(since, "connect")).toEqual([]);
    expect(since.filter((l) => l.type === "error")).toEqual([]);
    const open = await server.open();
    expect(open.sessions.filter((s) => sessions.includes(s))).toEqual([]);
    report("fuzz", {
      runs: sessions.length,
      ms: Date.now() - startedAt,
      reasons: since
        .filter((l) => l.type === "disconnect")
        .reduce<Record<string, number>>((acc, l) => {
          const key = `${l.reason}${l.code === undefined ? "" : `/${l.code}`}`;
          acc[key] = (acc[key] ?? 0) + 1;
          return acc;
        }, {}),
    });
  }, 90_000);
});

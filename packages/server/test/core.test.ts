// The transport-free core, driven by a fake transport object: no network.
import { CloseCode, type DisconnectReason, defineProtocol } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { FakeServerTransport } from "../../testing/src/fake-transport.js";
import {
  createServerCore,
  type DisconnectInfo,
  type ServerCoreOptions,
  serverDefaults,
  type TransportSink,
} from "../src/core/index.js";
import { fakeClock } from "./helpers.js";

function setup<TClient = unknown, TServer = unknown>(
  options: ServerCoreOptions<TClient, TServer, unknown> = {},
) {
  const { fc, clock } = fakeClock();
  const core = createServerCore<TClient, TServer, unknown>({ clock, intervalMs: 1000, ...options });
  const disconnects: DisconnectInfo[] = [];
  const errors: string[] = [];
  core.on("disconnect", (info) => disconnects.push(info));
  core.on("error", (e) => errors.push(e.code));
  const open = (auth: unknown = undefined) => {
    const transport = new FakeServerTransport();
    const sink = core.accept(transport, { remoteAddress: "10.0.0.1", auth });
    return { transport, sink };
  };
  return { fc, core, disconnects, errors, open };
}

describe("core: one connection", () => {
  it("sends welcome first with the terms, and answers pings at once", () => {
    const { open, core } = setup({ generateSessionId: () => "s_1" });
    const { transport, sink } = open();
    sink.receive('{"type":"ping","seq":41}');
    expect(transport.sent).toEqual([
      {
        type: "welcome",
        protocol: 1,
        sessionId: "s_1",
        heartbeat: { intervalMs: 1000, timeoutMs: 2000 },
        rate: { perSecond: 50, burst: 200 },
      },
      { type: "pong", seq: 41 },
    ]);
    expect(core.stats()).toMatchObject({ open: 1, framesIn: 1, framesOut: 2 });
  });

  it.each([
    ["the default limit", {}, { perSecond: 50, burst: 200 }],
    [
      "a limit of its own",
      { rateLimit: { burst: 10, perSecond: 2.5 } },
      { perSecond: 2.5, burst: 10 },
    ],
    ["no limit (false)", { rateLimit: false as const }, undefined],
    ["no limit (perSecond 0)", { rateLimit: { burst: 10, perSecond: 0 } }, undefined],
  ])("announces %s in welcome.rate (absent without one)", (_name, options, rate) => {
    const { open } = setup(options);
    const welcome = open().transport.sent[0] as { rate?: unknown };
    expect(welcome.rate).toEqual(rate);
    expect("rate" in welcome).toBe(rate !== undefined);
  });

  it("the default burst leaves room for a client's full default outbox (100), its ping and its acks", () => {
    const { open, disconnects } = setup();
    const { sink } = open();
    // What a client on defaults that cannot pace sends at once when it connects: 100 queued messages, a ping, an ack.
    for (let i = 0; i < 100; i++) sink.receive(`{"type":"message","data":${i}}`);
    sink.receive('{"type":"ping","seq":0}');
    expect(disconnects).toEqual([]);
    expect(serverDefaults.rateLimit.burst).toBeGreaterThanOrEqual(2 * 100);
  });

  it.each([
    ['{"type":"ping","seq":0}', 0],
    ['{"type":"ping","seq":9007199254740991,"extra":[1]}', 9007199254740991],
    ['{"seq":5,"type":"ping"}', 5],
    [' {"type":"ping","seq":6}', 6],
  ])("answers ping %s with pong %d", (frame, seq) => {
    const { open, disconnects } = setup();
    const { transport, sink } = open();
    sink.receive(frame);
    expect(transport.sent[1]).toEqual({ type: "pong", seq });
    expect(disconnects).toEqual([]);
  });

  it.each([
    '{"type":"ping","seq":-1}',
    '{"type":"ping","seq":1.5}',
    '{"type":"ping","seq":9007199254740992}',
    '{"type":"ping","seq":"1"}',
    '{"type":"ping"}',
    '{"type":"ping","seq":1',
    '{"type":"ping","seq":1,"type":"pong"}',
  ])("closes 4400 on the bad ping %s", (frame) => {
    const { open, disconnects } = setup();
    const { transport, sink } = open();
    sink.receive(frame);
    expect(transport.log.at(-1)).toBe("close:4400:protocol_error");
    expect(disconnects).toEqual([
      expect.objectContaining({ reason: "protocol_error", code: 4400 }),
    ]);
  });

  it("times out at exactly timeoutMs: close 4000 written before the socket is dropped", () => {
    const { open, fc, disconnects } = setup({ timeoutMs: 5000 });
    const { transport } = open();
    fc.tick(4999);
    expect(disconnects).toEqual([]);
    fc.tick(1);
    expect(transport.log.slice(1)).toEqual(["close:4000:timeout", "terminate"]);
    expect(disconnects).toMatchObject([{ reason: "timeout", code: 4000, lastHeardAt: 1_000_000 }]);
  });

  it("each data frame moves the deadline; one clock timer per server, however many connections and frames", () => {
    const { open, fc, disconnects } = setup({ rateLimit: false });
    const { sink } = open();
    for (let i = 0; i < 99; i++) open();
    for (let t = 0; t < 199; t++) {
      fc.tick(10);
      for (let i = 0; i < 5; i++) sink.receive('{"type":"ping","seq":1}');
    }
    fc.tick(9); // 1999 ms
    // One clock timer for the whole server's silence watch, however many frames arrived.
    expect(fc.countTimers()).toBe(1);
    expect(disconnects).toHaveLength(0);
    fc.tick(1);
    expect(disconnects).toHaveLength(99);
    expect(fc.countTimers()).toBe(1);
    fc.tick(1989); // the last frame came at 1990 ms
    expect(disconnects).toHaveLength(99);
    fc.tick(1);
    expect(disconnects).toHaveLength(100);
    expect(fc.countTimers()).toBe(0);
  });

  it("a connection that ends leaves nothing queued: the others still time out on time, then no timer is left", () => {
    const { open, fc, disconnects, core } = setup({ timeoutMs: 5000 });
    const first = open();
    fc.tick(10);
    const second = open();
    fc.tick(10);
    const third = open();
    first.sink.closed(1000, true); // the earliest deadline goes
    third.sink.receiveBinary(); // and one from the end
    expect(disconnects.map((d) => d.reason)).toEqual(["client_closed", "protocol_error"]);
    expect(fc.countTimers()).toBe(1);
    fc.tick(4989);
    expect(disconnects).toHaveLength(2);
    fc.tick(1);
    expect(disconnects.at(-1)).toMatchObject({ reason: "timeout", lastHeardAt: 1_000_010 });
    expect(second.transport.log.slice(1)).toEqual(["close:4000:timeout", "terminate"]);
    expect(fc.countTimers()).toBe(0);
    expect(core.stats().open).toBe(0);
  });

  it("lastHeardAt (and its deprecated alias lastSeenAt) is the time of the last data frame", () => {
    const { open, fc, disconnects } = setup();
    const { sink } = open();
    fc.tick(700);
    sink.receive('{"type":"message","data":null}');
    fc.tick(2000);
    expect(disconnects[0]).toMatchObject({
      connectedAt: 1_000_000,
      lastHeardAt: 1_000_700,
      lastSeenAt: 1_000_700,
    });
  });

  it.each([
    ["invalid JSON", (s: TransportSink) => s.receive("{"), "close:4400:protocol_error", 4400],
    [
      "unknown type",
      (s: TransportSink) => s.receive('{"type":"x"}'),
      "close:4400:protocol_error",
      4400,
    ],
    ["binary", (s: TransportSink) => s.receiveBinary(), "close:1003:protocol_error", 1003],
    ["too big", (s: TransportSink) => s.refused(1009, "too big"), undefined, 1009],
    ["bad UTF-8", (s: TransportSink) => s.refused(1007, "utf8"), undefined, 1007],
  ])("%s ends the connection as protocol_error, once", (_n, act, closeLog, code) => {
    const { open, disconnects } = setup();
    const { transport, sink } = open();
    act(sink);
    act(sink);
    sink.closed(1006, false);
    expect(transport.log.filter((l) => l.startsWith("close"))).toEqual(closeLog ? [closeLog] : []);
    expect(disconnects).toEqual([expect.objectContaining({ reason: "protocol_error", code })]);
  });

  it("validates data with the app schema: error message on failure, connection kept", () => {
    const protocol = defineProtocol({ client: z.object({ n: z.number() }) });
    const { open, core, disconnects } = setup({ protocol });
    const got: unknown[] = [];
    core.on("message", (_c, data) => got.push(data));
    const { transport, sink } = open();
    sink.receive('{"type":"message","data":{"n":"1"}}');
    sink.receive('{"type":"message","data":{"n":1}}');
    expect(transport.types()).toEqual(["welcome", "error"]);
    expect(transport.sent[1]).toMatchObject({ code: "invalid_payload" });
    expect(got).toEqual([{ n: 1 }]);
    expect(disconnects).toEqual([]);
  });

  it("refills the rate bucket from the clock, lazily", () => {
    const { open, fc, disconnects } = setup({ rateLimit: { burst: 2, perSecond: 4 } });
    const { transport, sink } = open();
    sink.receive('{"type":"ping","seq":0}');
    sink.receive('{"type":"ping","seq":1}');
    fc.tick(250); // one token back
    sink.receive('{"type":"ping","seq":2}');
    expect(disconnects).toEqual([]);
    sink.receive('{"type":"ping","seq":3}');
    expect(transport.log.at(-1)).toBe("close:4429:rate_limited");
    expect(disconnects).toEqual([expect.objectContaining({ reason: "rate_limited", code: 4429 })]);
  });

  it.each([
    [false as const],
    [{ burst: 1, perSecond: 0 }],
    [{ burst: 1, perSecond: Number.POSITIVE_INFINITY }],
  ])("rateLimit %j disables the limit", (rateLimit) => {
    const { open, disconnects } = setup({ rateLimit });
    const { sink } = open();
    for (let i = 0; i < 1000; i++) sink.receive('{"type":"ping","seq":0}');
    expect(disconnects).toEqual([]);
  });

  it("sheds a slow consumer at maxBufferedBytes with 1013 instead of queueing", () => {
    const { open, disconnects } = setup({ maxBufferedBytes: 100 });
    const { transport, sink } = open();
    const conn = [...setupConnections(sink)][0]!;
    expect(conn.send("a")).toBe(true);
    transport.bufferedAmount = 90;
    expect(conn.send("x".repeat(20))).toBe(false);
    expect(transport.log.at(-1)).toBe("close:1013:server_closed");
    expect(disconnects).toEqual([expect.objectContaining({ reason: "server_closed", code: 1013 })]);
  });

  it("reports a transport error on the error event without ending the connection", () => {
    const { open, errors, disconnects } = setup();
    const { sink } = open();
    sink.errored(new Error("EPIPE"));
    expect(errors).toEqual(["transport_error"]);
    expect(disconnects).toEqual([]);
    sink.closed(1006, false);
    expect(disconnects).toEqual([expect.objectContaining({ reason: "connection_lost" })]);
  });
});

// The sink handed to an adapter is the connection object itself.
function setupConnections(sink: TransportSink) {
  return [sink as unknown as import("../src/core/index.js").Connection<unknown, unknown>];
}

describe("core: exactly one disconnect, whatever the order", () => {
  type Step = "timeout" | "clientClose" | "lost" | "refused" | "appClose" | "shutdown" | "binary";
  const reasonOf: Record<Step, DisconnectReason> = {
    timeout: "timeout",
    clientClose: "client_closed",
    lost: "connection_lost",
    refused: "protocol_error",
    appClose: "server_closed",
    shutdown: "server_closed",
    binary: "protocol_error",
  };
  const steps = Object.keys(reasonOf) as Step[];
  const pairs = steps.flatMap((a) => steps.filter((b) => b !== a).map((b) => [a, b] as const));

  it.each(pairs)("%s then %s: one report, the first decides", (first, second) => {
    const { open, fc, core, disconnects } = setup({ closeTimeoutMs: 100 });
    const { sink } = open();
    const conn = [...core.connections()][0]!;
    const run = (step: Step) => {
      if (step === "timeout") fc.tick(2000);
      else if (step === "clientClose") sink.closed(1000, true);
      else if (step === "lost") sink.closed(1006, false);
      else if (step === "refused") sink.refused(1009, "too big");
      else if (step === "appClose") conn.close();
      else if (step === "shutdown") void core.close();
      else sink.receiveBinary();
    };
    run(first);
    run(second);
    fc.tick(5000);
    sink.closed(1006, false);
    expect(disconnects.map((d) => d.reason)).toEqual([reasonOf[first]]);
    expect(core.stats().open).toBe(0);
    const counts = core.stats().disconnects;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("survives re-entrant calls from inside the disconnect listener", () => {
    const { open, core, fc, disconnects } = setup();
    const { sink } = open();
    core.on("disconnect", (_info, conn) => {
      conn.close();
      sink.closed(1000, true);
      sink.receive('{"type":"ping","seq":1}');
      void core.close();
    });
    fc.tick(2000);
    expect(disconnects.map((d) => d.reason)).toEqual(["timeout"]);
  });

  it("a connection listener may close the connection it is told about", () => {
    const { core, open, disconnects } = setup();
    core.on("connection", (conn) => conn.close(4001, "not today"));
    const { transport } = open();
    expect(transport.log).toEqual(["send:welcome", "close:4001:not today"]);
    expect(disconnects).toEqual([expect.objectContaining({ reason: "server_closed", code: 4001 })]);
  });
});

describe("core: shutdown", () => {
  it("sends goodbye with the window then 1001 to each, and resolves when every socket is gone", async () => {
    const { open, core, disconnects } = setup();
    const a = open();
    const b = open();
    let resolved = false;
    const closing = core.close().then(() => {
      resolved = true;
    });
    expect(core.accepting).toBe(false);
    for (const { transport } of [a, b]) {
      expect(transport.sent.at(-1)).toEqual({
        type: "goodbye",
        reconnect: serverDefaults.reconnectWindow,
      });
      expect(transport.log.slice(-2)).toEqual(["send:goodbye", "close:1001:server_closed"]);
    }
    expect(disconnects.map((d) => [d.reason, d.code])).toEqual([
      ["server_closed", 1001],
      ["server_closed", 1001],
    ]);
    a.sink.closed(1001, true);
    await Promise.resolve();
    expect(resolved).toBe(false);
    b.sink.closed(1001, true);
    await closing;
    expect(disconnects).toHaveLength(2);
    expect(core.close()).toBe(core.close());
  });

  it("destroys sockets still there at closeTimeoutMs, then resolves", async () => {
    const { open, core, fc } = setup({
      closeTimeoutMs: 3000,
      reconnectWindow: { minMs: 5, maxMs: 50 },
    });
    const { transport, sink } = open();
    let resolved = false;
    void core.close().then(() => {
      resolved = true;
    });
    expect(transport.sent.at(-1)).toEqual({ type: "goodbye", reconnect: { minMs: 5, maxMs: 50 } });
    fc.tick(2999);
    await Promise.resolve();
    expect(resolved).toBe(false);
    expect(transport.log).not.toContain("terminate");
    fc.tick(1);
    await Promise.resolve();
    expect(transport.log.at(-1)).toBe("terminate");
    expect(resolved).toBe(true);
    sink.closed(1006, false); // the late close of the destroyed socket changes nothing
  });

  it("resolves at once with no connections, and refuses later accepts without events", async () => {
    const { core, open } = setup();
    const seen: string[] = [];
    core.on("connection", () => seen.push("connection"));
    await core.close();
    const { transport, sink } = open();
    sink.receive('{"type":"ping","seq":1}');
    expect(transport.log).toEqual(["close:1001:server_closed"]);
    expect(seen).toEqual([]);
  });
});

describe("core: keep-alive sweep and broadcast", () => {
  it("pings every connection once per interval from one shared timer, a slice at a time", () => {
    const { open, fc } = setup({ keepAliveIntervalMs: 400, timeoutMs: 10_000 });
    const conns = Array.from({ length: 10 }, () => open());
    // The shared silence watch and the shared keep-alive sweep.
    expect(fc.countTimers()).toBe(1 + 1);
    // A step every 100 ms, 2.5 connections each: 2, 3, 2, 3.
    fc.tick(399);
    expect(conns.map((c) => c.transport.pings)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    fc.tick(1);
    expect(conns.map((c) => c.transport.pings)).toEqual(Array(10).fill(1));
    fc.tick(400);
    expect(conns.map((c) => c.transport.pings)).toEqual(Array(10).fill(2));
    for (const c of conns) c.sink.closed(1000, true);
    expect(fc.countTimers()).toBe(0);
  });

  it("broadcasts one encoded frame to the open connections only", () => {
    const { open, core } = setup();
    const a = open();
    const b = open();
    const c = open();
    b.sink.closed(1000, true);
    expect(core.broadcast({ hi: 1 })).toBe(2);
    expect(
      core.broadcast({ hi: 2 }, (conn) => conn.sessionId !== [...core.connections()][0]!.sessionId),
    ).toBe(1);
    expect([a, b, c].map((x) => x.transport.types().filter((t) => t === "message").length)).toEqual(
      [1, 0, 2],
    );
  });

  it("checks options", () => {
    expect(() => createServerCore({ intervalMs: 0 })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
    expect(() => createServerCore({ reconnectWindow: { minMs: 10, maxMs: 5 } })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
    expect(Object.isFrozen(serverDefaults)).toBe(true);
    expect(serverDefaults.timeoutMs).toBe(2 * serverDefaults.intervalMs);
  });

  it("uses CloseCode constants the protocol defines", () => {
    expect(CloseCode.HeartbeatTimeout).toBe(4000);
  });
});

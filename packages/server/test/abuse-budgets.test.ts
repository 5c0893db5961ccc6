// Issue 15's byte budgets in the core, on the fake clock with fake transports:
// the inbound byte bucket beside the frame bucket, and the total outbound
// buffer across connections.
import { describe, expect, it } from "vitest";
import { FakeServerTransport } from "../../testing/src/fake-transport.js";
import {
  createServerCore,
  type DisconnectInfo,
  type ServerCoreOptions,
  serverDefaults,
} from "../src/core/index.js";
import { fakeClock } from "./helpers.js";

function setup(options: ServerCoreOptions = {}) {
  const { fc, clock } = fakeClock();
  const core = createServerCore({ clock, ...options });
  const disconnects: DisconnectInfo[] = [];
  core.on("disconnect", (info) => disconnects.push(info));
  const open = (reading = true) => {
    const transport = new FakeServerTransport({ reading });
    const sink = core.accept(transport, { remoteAddress: "10.0.0.1", auth: undefined });
    return { transport, sink };
  };
  return { fc, core, disconnects, open };
}

const message = (chars: number) => JSON.stringify({ type: "message", data: "x".repeat(chars) });

describe("byteRateLimit: the inbound byte budget", () => {
  it("defaults to a 1 MiB burst and 256 KiB per second", () => {
    expect(serverDefaults.byteRateLimit).toEqual({ burst: 1024 * 1024, perSecond: 256 * 1024 });
  });

  it("takes exactly the burst, refuses one byte more with 4429 (rate_limited), and refills at perSecond", () => {
    const { fc, open, disconnects } = setup({
      rateLimit: false,
      byteRateLimit: { burst: 1000, perSecond: 1000 },
    });
    const a = open();
    const frame = message(500 - message(0).length);
    const ping = '{"type":"ping","seq":1}'; // 23 bytes
    expect(frame.length).toBe(500);
    a.sink.receive(frame);
    a.sink.receive(frame);
    // 1 byte a millisecond: after 23 ms a ping fits exactly, and one more at once does not.
    fc.tick(23);
    const b = open();
    b.sink.receive(frame);
    b.sink.receive(frame);
    a.sink.receive(ping);
    expect(disconnects).toEqual([]);
    a.sink.receive(ping);
    expect(disconnects).toEqual([expect.objectContaining({ reason: "rate_limited", code: 4429 })]);
    // After 22 ms, a ping is one byte short.
    fc.tick(22);
    b.sink.receive(ping);
    expect(disconnects).toHaveLength(2);
    expect(b.transport.codes).toEqual([4429]);
    expect(a.transport.codes).toEqual([4429]);
  });

  it("counts bytes beside frames: many small frames pass the byte budget and still meet the frame budget", () => {
    const { open, disconnects } = setup({
      rateLimit: { burst: 3, perSecond: 1 },
      byteRateLimit: { burst: 1_000_000, perSecond: 1 },
    });
    const a = open();
    for (let i = 0; i < 3; i++) a.sink.receive('{"type":"ping","seq":1}');
    expect(disconnects).toEqual([]);
    a.sink.receive('{"type":"ping","seq":1}');
    expect(disconnects).toEqual([expect.objectContaining({ reason: "rate_limited" })]);
  });

  it("false disables it", () => {
    const { open, disconnects } = setup({ rateLimit: false, byteRateLimit: false });
    const a = open();
    for (let i = 0; i < 100; i++) a.sink.receive(message(60_000));
    expect(disconnects).toEqual([]);
  });
});

describe("maxBufferedBytesTotal: the outbound buffer across connections", () => {
  it("defaults to 64 MiB", () => {
    expect(serverDefaults.maxBufferedBytesTotal).toBe(64 * 1024 * 1024);
  });

  it("sheds non-reading connections (1013) once the total is reached; healthy ones keep their pongs", () => {
    const { core, open, disconnects } = setup({
      maxBufferedBytesTotal: 10_000,
      maxBufferedBytes: Number.POSITIVE_INFINITY,
    });
    const stalled = Array.from({ length: 50 }, () => open(false));
    const healthy = Array.from({ length: 5 }, () => open(true));
    const chunk = "y".repeat(900);
    for (let round = 0; round < 20; round++) {
      core.broadcast(chunk);
      // What the connections still held (not shed) have queued stays under the total.
      const held = stalled
        .filter((s) => s.transport.codes.length === 0)
        .reduce((sum, s) => sum + s.transport.bufferedAmount, 0);
      expect(held).toBeLessThanOrEqual(10_000);
      for (const h of healthy) h.sink.receive('{"type":"ping","seq":1}');
    }
    expect(healthy.every((h) => h.transport.count("pong") === 20)).toBe(true);
    expect(healthy.every((h) => h.transport.codes.length === 0)).toBe(true);
    const shed = disconnects.filter((d) => d.code === 1013);
    expect(shed.length).toBeGreaterThan(30);
    expect(shed.every((d) => d.reason === "server_closed")).toBe(true);
    expect(disconnects).toHaveLength(shed.length);
  });

  it.each([
    [true, []],
    [false, [1013]],
  ])("a drained socket gives its share back (drain reported: %s)", (reported, shed) => {
    const { core, open, disconnects } = setup({
      maxBufferedBytesTotal: 2000,
      maxBufferedBytes: Number.POSITIVE_INFINITY,
    });
    const a = open(false);
    const b = open(false);
    core.broadcast("z".repeat(600 - message(0).length));
    // a's socket flushes everything.
    a.transport.bufferedAmount = 0;
    if (reported) a.sink.drained();
    const [, bConn] = [...core.connections()];
    bConn!.send("z".repeat(2000 - 600 - 600 - message(0).length));
    // With a's share given back, b's backlog fits the total exactly; with a stale share it does not.
    expect(disconnects.map((d) => d.code)).toEqual(shed);
    void b;
  });

  it("a gone socket's share leaves the total", () => {
    const { core, open, disconnects } = setup({
      maxBufferedBytesTotal: 1000,
      maxBufferedBytes: Number.POSITIVE_INFINITY,
    });
    const a = open(false);
    core.broadcast("z".repeat(700));
    a.sink.closed(1000, true);
    open(false);
    core.broadcast("z".repeat(700));
    core.broadcast("z".repeat(10));
    // Each holds its welcome (about 120 bytes) and what it was sent: only a's departure makes room for b's.
    expect(disconnects.map((d) => d.reason)).toEqual(["client_closed"]);
  });
});

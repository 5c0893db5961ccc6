// Issue 15 point 3: no false timeouts when the server's own loop stalls. The
// loop is modelled on the fake clock in Node's phase order: a stall is a
// fake-timers `jump` (time passes, nothing runs), then the timers phase (the
// jump fires what fell due), then the poll phase (the I/O that waited: the
// test delivers it), then the check phase (`Clock.afterIO`, run by the test).
import { type Clock, clockOf } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";
import { describe, expect, it } from "vitest";
import { FakeServerTransport } from "../../testing/src/fake-transport.js";
import { createServerCore, type DisconnectInfo, type TransportSink } from "../src/core/index.js";

const X = 1000; // intervalMs; timeoutMs is 2X

const transport = (): FakeServerTransport => new FakeServerTransport();

function loop(withAfterIO: boolean) {
  const fc = FakeTimers.createClock(0);
  const checkPhase: (() => void)[] = [];
  const base = clockOf({
    get now() {
      return fc.now;
    },
    setTimeout: (cb: () => void, ms: number) => fc.setTimeout(cb, ms),
    clearTimeout: (h: unknown) => fc.clearTimeout(h as FakeTimers.TimerId),
  });
  const clock: Clock = withAfterIO ? { ...base, afterIO: (cb) => void checkPhase.push(cb) } : base;
  const core = createServerCore({ clock, intervalMs: X, rateLimit: false });
  const disconnects: DisconnectInfo[] = [];
  core.on("disconnect", (info) => disconnects.push(info));
  const sinks: TransportSink[] = [];
  for (let i = 0; i < 10; i++) {
    sinks.push(core.accept(transport(), { remoteAddress: `10.0.0.${i}`, auth: undefined }));
  }
  const ping = (sink: TransportSink) => sink.receive('{"type":"ping","seq":1}');
  /** One loop iteration after a stall of `ms`: timers, then the waiting I/O, then the check phase. */
  const stalledTurn = (ms: number, waitingIO: () => void) => {
    fc.jump(ms);
    waitingIO();
    for (const callback of checkPhase.splice(0)) callback();
  };
  /** Plain time passing with an idle loop: every phase runs as things fall due. */
  const idle = (ms: number) => {
    for (let t = 0; t < ms; t++) {
      fc.tick(1);
      for (const callback of checkPhase.splice(0)) callback();
    }
  };
  return { fc, core, disconnects, sinks, ping, stalledTurn, idle };
}

describe("a server whose loop is blocked for 1.5X while its clients ping", () => {
  it("times none of them out: the deadline's verdict waits for the pings that arrived meanwhile", () => {
    const { sinks, ping, disconnects, stalledTurn, idle } = loop(true);
    idle(X);
    for (const sink of sinks) ping(sink); // heard at X: deadline 3X
    idle(X / 2);
    // Blocked from 1.5X to 3X; each client's ping of 2X waits, unread, in its socket.
    stalledTurn(1.5 * X, () => {
      for (const sink of sinks) ping(sink);
    });
    expect(disconnects).toEqual([]);
    // And the silence watch still works: nobody pings again, all go at 3X + 2X.
    idle(2 * X - 1);
    expect(disconnects).toEqual([]);
    idle(1);
    expect(disconnects).toHaveLength(10);
    expect(new Set(disconnects.map((d) => d.reason))).toEqual(new Set(["timeout"]));
  });

  it("still times out, after the stall, a client whose ping did not come", () => {
    const { sinks, ping, disconnects, stalledTurn, idle } = loop(true);
    idle(X);
    for (const sink of sinks) ping(sink);
    idle(X / 2);
    stalledTurn(1.5 * X, () => {
      for (const sink of sinks.slice(1)) ping(sink);
    });
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toMatchObject({ reason: "timeout", code: 4000 });
  });

  it("(the control) a clock without afterIO decides in the timer: the same stall times every client out", () => {
    const { sinks, ping, disconnects, stalledTurn, idle } = loop(false);
    idle(X);
    for (const sink of sinks) ping(sink);
    idle(X / 2);
    stalledTurn(1.5 * X, () => {
      for (const sink of sinks) ping(sink);
    });
    expect(disconnects).toHaveLength(10);
  });
});

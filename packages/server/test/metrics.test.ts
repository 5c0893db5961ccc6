// The OpenTelemetry instruments, read through the SDK's own reader on the
// fake clock: each figure must move exactly when the event behind it happens.
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import {
  type MeterProvider as ApiMeterProvider,
  type Attributes,
  metrics,
} from "@opentelemetry/api";
import {
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { FakeServerTransport } from "../../testing/src/fake-transport.js";
import {
  createServerCore,
  HeartlineMetric,
  type HeartlineServer,
  metricsDefaults,
  onTimeoutLateness,
  type ServerCoreOptions,
} from "../src/index.js";
import { fakeClock, startServer, TestClient } from "./helpers.js";

/** A pull reader: `collect()` runs the observable callbacks and returns every stream. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function read(reader: TestReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
  }
  return byName;
}

/** The value of a sum (counter, up-down counter) at the given attributes; 0 when absent. */
function sum(data: Map<string, MetricData>, name: string, attributes: Attributes = {}): number {
  const metric = data.get(name);
  if (metric === undefined) return 0;
  const point = metric.dataPoints.find(
    (p) => JSON.stringify(p.attributes) === JSON.stringify(attributes),
  );
  return (point?.value as number | undefined) ?? 0;
}

function histogram(data: Map<string, MetricData>, name: string, attributes: Attributes = {}) {
  const metric = data.get(name) as HistogramMetricData | undefined;
  expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
  const point = metric!.dataPoints.find(
    (p) => JSON.stringify(p.attributes) === JSON.stringify(attributes),
  );
  return point?.value;
}

const TIMEOUT = 2000;

function setup(options: ServerCoreOptions & { lateTimersMs?: number } = {}) {
  const { fc, clock } = fakeClock();
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const late = options.lateTimersMs ?? 0;
  const core = createServerCore({
    // A clock whose timers fire `late` ms after they are due, as on a busy event loop.
    clock: { ...clock, setTimeout: (callback, ms) => clock.setTimeout(callback, ms + late) },
    intervalMs: TIMEOUT / 2,
    meterProvider: provider,
    ...options,
  });
  const open = () => {
    const transport = new FakeServerTransport();
    return {
      transport,
      sink: core.accept(transport, { remoteAddress: "10.0.0.1", auth: undefined }),
    };
  };
  return { fc, core, reader, open };
}

const timeout = { "heartline.disconnect.reason": DisconnectReason.Timeout };

describe("metrics: connections and timeouts", () => {
  it("counts an open connection in heartline.server.connections, and its end", async () => {
    const { reader, open } = setup();
    expect(sum(await read(reader), HeartlineMetric.Connections)).toBe(0);
    const { sink } = open();
    open();
    expect(sum(await read(reader), HeartlineMetric.Connections)).toBe(2);
    sink.closed(1000, true);
    const data = await read(reader);
    expect(sum(data, HeartlineMetric.Connections)).toBe(1);
    expect(
      sum(data, HeartlineMetric.Disconnects, {
        "heartline.disconnect.reason": DisconnectReason.ClientClosed,
      }),
    ).toBe(1);
  });

  it("a silent client: nothing at timeoutMs − 1; at timeoutMs one timeout, its duration and a lateness of 0", async () => {
    const { fc, reader, open } = setup();
    open();
    fc.tick(TIMEOUT - 1);
    let data = await read(reader);
    expect(sum(data, HeartlineMetric.Disconnects, timeout)).toBe(0);
    expect(data.get(HeartlineMetric.TimeoutLateness)?.dataPoints ?? []).toEqual([]);

    fc.tick(1);
    data = await read(reader);
    expect(sum(data, HeartlineMetric.Disconnects, timeout)).toBe(1);
    expect(sum(data, HeartlineMetric.Connections)).toBe(0);
    const lateness = histogram(data, HeartlineMetric.TimeoutLateness)!;
    expect(lateness.count).toBe(1);
    expect(lateness.sum).toBe(0);
    const duration = histogram(data, HeartlineMetric.ConnectionDuration, timeout)!;
    expect(duration.count).toBe(1);
    expect(duration.sum).toBe(TIMEOUT / 1000);
  });

  it("records how late a timeout was reported when the timer fired late (7 ms → 0.007 s, bucket ≤ 10 ms)", async () => {
    const { fc, reader, open } = setup({ lateTimersMs: 7 });
    const { sink } = open();
    fc.tick(500);
    sink.receive('{"type":"ping","seq":0}'); // the deadline moves to 500 + timeoutMs
    fc.tick(TIMEOUT + 6);
    expect(sum(await read(reader), HeartlineMetric.Disconnects, timeout)).toBe(0);
    fc.tick(1);
    const lateness = histogram(await read(reader), HeartlineMetric.TimeoutLateness)!;
    expect(lateness.count).toBe(1);
    expect(lateness.sum).toBeCloseTo(0.007, 9);
    const boundaries = lateness.buckets.boundaries;
    expect(boundaries).toEqual(metricsDefaults.timeoutLatenessBuckets);
    const firstNonEmpty = lateness.buckets.counts.findIndex((n) => n > 0);
    expect(boundaries[firstNonEmpty]).toBe(0.01);
    expect(boundaries[firstNonEmpty - 1]).toBe(0.005);
  });

  it("gives the connection-duration histogram buckets from 1 s to a day", async () => {
    const { reader, open } = setup();
    open().sink.closed(1000, true);
    const duration = histogram(await read(reader), HeartlineMetric.ConnectionDuration, {
      "heartline.disconnect.reason": DisconnectReason.ClientClosed,
    })!;
    expect(duration.buckets.boundaries).toEqual(metricsDefaults.connectionDurationBuckets);
    expect(duration.buckets.boundaries.at(0)).toBe(1);
    expect(duration.buckets.boundaries.at(-1)).toBe(86_400);
  });

  it("onTimeoutLateness hands in-process consumers the same figure, until removed", () => {
    const { fc, core, open } = setup({ lateTimersMs: 3 });
    const seen: number[] = [];
    const off = onTimeoutLateness(core, (seconds) => seen.push(seconds));
    open();
    fc.tick(TIMEOUT + 3);
    expect(seen).toEqual([0.003]);
    off();
    open();
    fc.tick(TIMEOUT + 3);
    expect(seen).toEqual([0.003]);
  });
});

describe("metrics: frames, messages and closes", () => {
  it("reads frames and messages by direction from stats() at collection time", async () => {
    const { reader, open, core } = setup();
    const { sink } = open();
    core.on("message", (conn, data) => void conn.send(data));
    sink.receive('{"type":"ping","seq":1}');
    sink.receive('{"type":"message","data":"hi"}');
    const data = await read(reader);
    const rx = { "network.io.direction": "receive" };
    const tx = { "network.io.direction": "transmit" };
    expect(sum(data, HeartlineMetric.Frames, rx)).toBe(2);
    // welcome, pong, the echo
    expect(sum(data, HeartlineMetric.Frames, tx)).toBe(3);
    expect(sum(data, HeartlineMetric.Messages, rx)).toBe(1);
    expect(sum(data, HeartlineMetric.Messages, tx)).toBe(1);
  });

  it("calls no instrument per frame: 1,000 pings make no synchronous measurement", () => {
    const calls: string[] = [];
    const real = new MeterProvider();
    // A provider that logs every synchronous instrument call.
    const spy: ApiMeterProvider = {
      getMeter(name, version, options) {
        const meter = real.getMeter(name, version, options);
        return new Proxy(meter, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver);
            if (key !== "createCounter" && key !== "createHistogram") return value;
            return (metricName: string, opts: object) => {
              const instrument = value.call(target, metricName, opts);
              return {
                add: (...args: unknown[]) => {
                  calls.push(metricName);
                  instrument.add(...args);
                },
                record: (...args: unknown[]) => {
                  calls.push(metricName);
                  instrument.record(...args);
                },
              };
            };
          },
        });
      },
    };
    const { fc, clock } = fakeClock();
    const core = createServerCore({ clock, meterProvider: spy, rateLimit: false });
    // At creation only: every counter series made at zero (issue 24), once.
    expect(new Set(calls.splice(0))).toEqual(
      new Set([
        HeartlineMetric.Disconnects,
        HeartlineMetric.UpgradesRejected,
        HeartlineMetric.SlowConsumerCloses,
        HeartlineMetric.RateLimitCloses,
      ]),
    );
    const sink = core.accept(new FakeServerTransport(), { auth: undefined });
    for (let seq = 0; seq < 1000; seq++) sink.receive(`{"type":"ping","seq":${seq}}`);
    expect(calls).toEqual([]);
    sink.closed(1000, true);
    expect(calls).toEqual([HeartlineMetric.Disconnects, HeartlineMetric.ConnectionDuration]);
    fc.reset();
  });

  it("counts a rate-limited close (4429) and a shed slow consumer (1013)", async () => {
    const { reader, open } = setup({ rateLimit: { burst: 2, perSecond: 1 } });
    const limited = open();
    for (let seq = 0; seq < 3; seq++) limited.sink.receive(`{"type":"ping","seq":${seq}}`);
    expect(limited.transport.codes).toEqual([CloseCode.RateLimited]);

    const slow = setup({ maxBufferedBytes: 10 });
    const s = slow.open();
    s.transport.bufferedAmount = 10;
    for (const conn of slow.core.connections()) conn.send("too much");
    expect(s.transport.codes).toEqual([CloseCode.TryAgainLater]);

    const a = await read(reader);
    expect(sum(a, HeartlineMetric.RateLimitCloses)).toBe(1);
    expect(
      sum(a, HeartlineMetric.Disconnects, {
        "heartline.disconnect.reason": DisconnectReason.RateLimited,
      }),
    ).toBe(1);
    expect(sum(a, HeartlineMetric.SlowConsumerCloses)).toBe(0);
    const b = await read(slow.reader);
    expect(sum(b, HeartlineMetric.SlowConsumerCloses)).toBe(1);
    expect(sum(b, HeartlineMetric.RateLimitCloses)).toBe(0);
  });
});

describe("metrics: the provider", () => {
  afterEach(() => metrics.disable());

  it("defaults to the global provider the application registered", async () => {
    const reader = new TestReader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    const core = createServerCore({ clock: fakeClock().clock });
    core.accept(new FakeServerTransport(), { auth: undefined });
    expect(sum(await read(reader), HeartlineMetric.Connections)).toBe(1);
  });

  it("is a no-op without one: the server runs and reports as before", () => {
    const { clock } = fakeClock();
    const core = createServerCore({ clock });
    const ended: string[] = [];
    core.on("disconnect", (info) => ended.push(info.reason));
    core.accept(new FakeServerTransport(), { auth: undefined }).closed(1000, true);
    expect(ended).toEqual([DisconnectReason.ClientClosed]);
  });
});

describe("metrics: refused upgrades (ws adapter)", () => {
  let server: HeartlineServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("counts a refused origin as upgrades.rejected{status=403, reason=origin_not_allowed}", async () => {
    const reader = new TestReader();
    const s = await startServer({
      allowedOrigins: ["https://app.example"],
      meterProvider: new MeterProvider({ readers: [reader] }),
    });
    server = s.hl as HeartlineServer;
    expect(
      await TestClient.refused(s.url, "heartline.v1", { origin: "https://evil.example" }),
    ).toBe(403);
    expect(await TestClient.refused(s.url.replace("/ws", "/nope"), "heartline.v1")).toBe(404);
    const data = await read(reader);
    expect(
      sum(data, HeartlineMetric.UpgradesRejected, {
        "http.response.status_code": 403,
        "heartline.upgrade.reject_reason": "origin_not_allowed",
      }),
    ).toBe(1);
    expect(
      sum(data, HeartlineMetric.UpgradesRejected, {
        "http.response.status_code": 404,
        "heartline.upgrade.reject_reason": "not_found",
      }),
    ).toBe(1);
  });
});

/** Keeps the welcome's resume token, for a resume. */
class TokenTransport extends FakeServerTransport {
  token: string | undefined;
  override send(text: string): void {
    super.send(text);
    const frame = JSON.parse(text) as { type: string; resume?: { token: string } };
    if (frame.type === "welcome") this.token = frame.resume?.token;
  }
}

describe("metrics: resumable sessions", () => {
  it("counts sessions waiting, resumes, ends by reason with their undelivered messages, evictions and refusals", async () => {
    const { fc, core, reader } = setup({
      resume: { windowMs: 10_000, maxWaitingPerAddress: 2, maxSessions: 4 },
      rateLimit: false,
    });
    const open = (token?: string) => {
      const transport = new TokenTransport();
      const sink = core.accept(transport, {
        remoteAddress: "10.0.0.9",
        auth: undefined,
        resume: { token },
      });
      return { transport, sink };
    };
    // Every new session holds one message it was never acknowledged for.
    core.on("connection", (conn) => conn.send("held"));
    let data = await read(reader);
    expect(sum(data, HeartlineMetric.SessionsWaiting)).toBe(0);
    const first = open();
    first.sink.closed(1006, false);
    open().sink.closed(1006, false);
    data = await read(reader);
    expect(sum(data, HeartlineMetric.SessionsWaiting)).toBe(2);
    expect(sum(data, HeartlineMetric.SessionEvictions)).toBe(0);
    // A third waiter from the address: its oldest (first) gives way, with the message it held.
    const third = open();
    third.sink.closed(1006, false);
    data = await read(reader);
    expect(sum(data, HeartlineMetric.SessionsWaiting)).toBe(2);
    expect(sum(data, HeartlineMetric.SessionEvictions)).toBe(1);
    const evicted = { "heartline.session.end_reason": "evicted" };
    expect(sum(data, HeartlineMetric.SessionEnds, evicted)).toBe(1);
    expect(sum(data, HeartlineMetric.UndeliveredMessages, evicted)).toBe(1);
    // The third resumes (one waiter left), then the windows pass: the second expires with its message.
    open(third.transport.token);
    data = await read(reader);
    expect(sum(data, HeartlineMetric.Resumes)).toBe(1);
    expect(sum(data, HeartlineMetric.SessionsWaiting)).toBe(1);
    fc.tick(10_000);
    data = await read(reader);
    const expired = { "heartline.session.end_reason": "expired" };
    expect(sum(data, HeartlineMetric.SessionEnds, expired)).toBe(1);
    expect(sum(data, HeartlineMetric.UndeliveredMessages, expired)).toBe(1);
    // The resumed one fell silent (timeout at 2 s) and waits again.
    expect(sum(data, HeartlineMetric.SessionsWaiting)).toBe(1);
    // Four new ones: the fourth fills the table by evicting that waiter; the fifth finds only live sessions.
    for (let i = 0; i < 5; i++) open();
    data = await read(reader);
    expect(sum(data, HeartlineMetric.SessionEvictions)).toBe(2);
    expect(sum(data, HeartlineMetric.SessionRefusals)).toBe(1);
  });
});

describe("metrics: issue 24 (series from the start, outbound bytes, accept errors, event loop)", () => {
  it("has every disconnect reason and refusal series at 0 before any event", async () => {
    const { reader } = setup();
    const data = await read(reader);
    for (const reason of Object.values(DisconnectReason)) {
      expect(data.get(HeartlineMetric.Disconnects)?.dataPoints).toContainEqual(
        expect.objectContaining({
          attributes: { "heartline.disconnect.reason": reason },
          value: 0,
        }),
      );
    }
    expect(
      data
        .get(HeartlineMetric.UpgradesRejected)
        ?.dataPoints.map((p) => [
          p.attributes["heartline.upgrade.reject_reason"],
          p.attributes["http.response.status_code"],
          p.value,
        ]),
    ).toContainEqual(["origin_not_allowed", 403, 0]);
    expect(sum(data, HeartlineMetric.SlowConsumerCloses)).toBe(0);
    expect(data.get(HeartlineMetric.SlowConsumerCloses)?.dataPoints).toHaveLength(1);
    expect(data.get(HeartlineMetric.RateLimitCloses)?.dataPoints).toHaveLength(1);
  });

  it("reads outbound buffered bytes and accept errors from stats() at collection", async () => {
    const { core, reader, open } = setup();
    const { transport, sink } = open();
    let data = await read(reader);
    expect(data.get(HeartlineMetric.OutboundBuffered)?.dataPoints[0]?.value).toBe(0);
    expect(sum(data, HeartlineMetric.AcceptErrors)).toBe(0);
    transport.bufferedAmount = 5000; // a send while 5,000 bytes wait counts them
    core.broadcast("x");
    core.reportAcceptError(Object.assign(new Error("EMFILE"), { code: "EMFILE" }));
    core.reportAcceptError(Object.assign(new Error("EMFILE"), { code: "EMFILE" }));
    data = await read(reader);
    expect(data.get(HeartlineMetric.OutboundBuffered)?.dataPoints[0]?.value).toBe(
      core.stats().outboundBufferedBytes,
    );
    expect(core.stats().outboundBufferedBytes).toBeGreaterThan(0);
    expect(sum(data, HeartlineMetric.AcceptErrors)).toBe(2);
    sink.closed(1000, true);
  });

  it("the ws adapter reports event-loop delay (p99, max) in seconds, and sees a blocked loop", async () => {
    const reader = new TestReader();
    const s = await startServer({ meterProvider: new MeterProvider({ readers: [reader] }) });
    try {
      await read(reader); // resets the sampler
      // Node's sampler skips its first interval after a reset: let it take one.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const started = Date.now();
      while (Date.now() - started < 60) {} // block the loop for 60 ms
      await new Promise((resolve) => setTimeout(resolve, 30));
      const data = await read(reader);
      const max = data.get(HeartlineMetric.EventLoopDelayMax)?.dataPoints[0]?.value as number;
      expect(data.get(HeartlineMetric.EventLoopDelayMax)?.descriptor.unit).toBe("s");
      expect(max).toBeGreaterThanOrEqual(0.05);
      expect(max).toBeLessThan(10);
      expect(data.get(HeartlineMetric.EventLoopDelayP99)?.dataPoints[0]?.value).toBeGreaterThan(0);
    } finally {
      await s.hl.close();
    }
  });
});

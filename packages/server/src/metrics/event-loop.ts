// Event-loop delay for the `ws` adapter (Node only: the core stays free of
// Node built-ins). A blocked loop delays every heartbeat and timeout, so it
// is the first figure to read when timeout lateness rises.

import { monitorEventLoopDelay } from "node:perf_hooks";
import type { MeterProvider } from "@opentelemetry/api";
import { metrics } from "@opentelemetry/api";
import { HeartlineMetric as M, heartlineMetricUnits as U } from "./names.js";

/** Resolution of the delay sampler, in ms: below it delays are not seen. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * Reports the event loop's delay (p99 and max since the previous collection,
 * in seconds) on `meterProvider`; returns a function that stops it.
 */
export function instrumentEventLoop(meterProvider: MeterProvider | undefined): () => void {
  const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter("@heartline/server");
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  // Sampling wakes the loop every 10 ms: it starts at the first collection,
  // so a server without a metrics SDK (the no-op provider never collects) pays nothing.
  let sampling = false;
  const p99 = meter.createObservableGauge(M.EventLoopDelayP99, {
    description: "Event-loop delay, 99th percentile since the previous collection.",
    unit: U[M.EventLoopDelayP99],
  });
  const max = meter.createObservableGauge(M.EventLoopDelayMax, {
    description: "Event-loop delay, maximum since the previous collection.",
    unit: U[M.EventLoopDelayMax],
  });
  const observe = (
    result: Parameters<Parameters<typeof meter.addBatchObservableCallback>[0]>[0],
  ) => {
    if (!sampling) {
      sampling = true;
      histogram.enable();
    }
    // The histogram is in nanoseconds; empty (no sample yet) reads as 0.
    const count = histogram.count;
    result.observe(p99, count === 0 ? 0 : histogram.percentile(99) / 1e9);
    result.observe(max, count === 0 ? 0 : histogram.max / 1e9);
    // Node's sampler skips the first interval after a reset: one
    // resolution (10 ms) per collection goes unmeasured.
    histogram.reset();
  };
  meter.addBatchObservableCallback(observe, [p99, max]);
  return () => {
    if (sampling) histogram.disable();
    sampling = false;
    meter.removeBatchObservableCallback(observe, [p99, max]);
  };
}

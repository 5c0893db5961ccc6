// Presence figures as OpenTelemetry metrics, read from `presence.stats()` in
// one batch callback at collection time (nothing measured per change), so an
// operator can alert on a node that lost Redis, is buffering, or dropped.
import { type MeterProvider, metrics } from "@opentelemetry/api";
import type { PresenceStats } from "./options.js";

/** The instrument names (fixed: alerts rely on them) and their units. */
export const PresenceMetric = {
  /** 1 while the link to Redis is up (`state` is `connected`), else 0 (gauge). */
  Connected: "heartline.presence.connected",
  /** 1 while the node is registered in Redis as far as it knows (gauge). */
  Registered: "heartline.presence.registered",
  /** Changes waiting to be written (gauge). */
  Buffered: "heartline.presence.buffered",
  /** Changes dropped from the full buffer (counter). */
  Dropped: "heartline.presence.dropped",
  /** Times the node's set was rewritten in Redis (counter). */
  Resyncs: "heartline.presence.resyncs",
  /** Failed writes and heartbeats (counter). */
  WriteErrors: "heartline.presence.write_errors",
  /** Times the link went from connected to disconnected (counter). */
  Outages: "heartline.presence.outages",
} as const;
export type PresenceMetric = (typeof PresenceMetric)[keyof typeof PresenceMetric];

/** What `instrumentPresence` reads: a presence handle's `stats()`. */
export interface InstrumentablePresence {
  /** The counters read at each collection. */
  stats(): PresenceStats;
}

/**
 * Creates presence's instruments on `meterProvider` (default: the global
 * provider) and feeds them from `presence.stats()` at each collection.
 * Returns a function that stops reporting (call it after `presence.close()`).
 */
export function instrumentPresence(
  presence: InstrumentablePresence,
  options: { meterProvider?: MeterProvider } = {},
): () => void {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter("@heartline/redis");
  const connected = meter.createObservableGauge(PresenceMetric.Connected, {
    // No unit: OpenTelemetry's "1" would become a `_ratio` suffix in Prometheus.
    description: "1 while this node's link to Redis is up.",
  });
  const registered = meter.createObservableGauge(PresenceMetric.Registered, {
    description: "1 while this node is registered in Redis as far as it knows.",
  });
  const buffered = meter.createObservableGauge(PresenceMetric.Buffered, {
    description: "Presence changes waiting to be written to Redis.",
    unit: "{change}",
  });
  const dropped = meter.createObservableCounter(PresenceMetric.Dropped, {
    description: "Presence changes dropped from the full buffer (maxBuffered).",
    unit: "{change}",
  });
  const resyncs = meter.createObservableCounter(PresenceMetric.Resyncs, {
    description:
      "Times this node's set was rewritten in Redis (start, after an outage, an overflow, a reap).",
    unit: "{resync}",
  });
  const writeErrors = meter.createObservableCounter(PresenceMetric.WriteErrors, {
    description: "Presence writes and node heartbeats that failed.",
    unit: "{error}",
  });
  const outages = meter.createObservableCounter(PresenceMetric.Outages, {
    description: "Times the link to Redis went down.",
    unit: "{outage}",
  });
  const observed = [connected, registered, buffered, dropped, resyncs, writeErrors, outages];
  const observe: Parameters<typeof meter.addBatchObservableCallback>[0] = (result) => {
    const s = presence.stats();
    result.observe(connected, s.state === "connected" ? 1 : 0);
    result.observe(registered, s.registered ? 1 : 0);
    result.observe(buffered, s.buffered);
    result.observe(dropped, s.dropped);
    result.observe(resyncs, s.resyncs);
    result.observe(writeErrors, s.writeErrors);
    result.observe(outages, s.outages);
  };
  meter.addBatchObservableCallback(observe, observed);
  return () => meter.removeBatchObservableCallback(observe, observed);
}

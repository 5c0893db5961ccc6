/**
 * The instrument names, units and attribute keys of `@heartline/server`'s
 * OpenTelemetry metrics. Fixed: dashboards and alerts rely on them (the
 * README's "Metrics" table lists each). OpenTelemetry has no WebSocket
 * semantic conventions yet, so these follow its general naming rules
 * (`namespace.dotted`, units in UCUM, `{thing}` annotations for counts) and
 * reuse existing attribute keys where one fits (`http.response.status_code`,
 * `network.io.direction`).
 */
export const HeartlineMetric = {
  /** Open connections (observable up-down counter, read from `stats().open`). */
  Connections: "heartline.server.connections",
  /** Ended connections by `heartline.disconnect.reason` (counter). */
  Disconnects: "heartline.server.disconnects",
  /** How long each connection lived, by reason (histogram, seconds). */
  ConnectionDuration: "heartline.server.connection.duration",
  /** Report time − deadline of each `timeout` (histogram, seconds). */
  TimeoutLateness: "heartline.server.timeout.lateness",
  /** Refused upgrades by status and reason (counter). */
  UpgradesRejected: "heartline.server.upgrades.rejected",
  /** Valid application messages, by direction (observable counter, from `stats()`). */
  Messages: "heartline.server.messages",
  /** Every data frame, by direction (observable counter, from `stats()`). */
  Frames: "heartline.server.frames",
  /** Connections closed 1013 because their outbound buffer passed `maxBufferedBytes` (counter). */
  SlowConsumerCloses: "heartline.server.slow_consumer.closes",
  /** Connections closed 4429 for exceeding the rate limit (counter). */
  RateLimitCloses: "heartline.server.rate_limit.closes",
  /** Resumable sessions waiting for their client (observable up-down counter, from `stats().sessions.detached`). */
  SessionsWaiting: "heartline.server.sessions.waiting",
  /** Successful resumes (counter, from the `resume` event). */
  Resumes: "heartline.server.resumes",
  /** Ended resumable sessions by `heartline.session.end_reason` (counter, from `sessionEnd`). */
  SessionEnds: "heartline.server.session.ends",
  /** Messages reported undelivered at a session's end, by end reason (counter, from `sessionEnd`). */
  UndeliveredMessages: "heartline.server.session.undelivered_messages",
  /** Waiting sessions evicted by the bounds (observable counter, from `stats().sessions.evicted`). */
  SessionEvictions: "heartline.server.session.evictions",
  /** Resume offers served plain v1, the table full of live sessions (observable counter, from `stats().sessions.refused`). */
  SessionRefusals: "heartline.server.session.refusals",
  /** Outbound bytes queued across connections, `stats().outboundBufferedBytes` (observable gauge, bytes). */
  OutboundBuffered: "heartline.server.outbound.buffered",
  /** Accepts that failed for want of descriptors, `stats().acceptErrors` (observable counter). */
  AcceptErrors: "heartline.server.accept.errors",
  /**
   * Event-loop delay, 99th percentile and maximum since the previous
   * collection (observable gauges, seconds; the `ws` adapter on Node only).
   * OpenTelemetry's Node.js runtime semantic conventions name them.
   */
  EventLoopDelayP99: "nodejs.eventloop.delay.p99",
  EventLoopDelayMax: "nodejs.eventloop.delay.max",
} as const;
export type HeartlineMetric = (typeof HeartlineMetric)[keyof typeof HeartlineMetric];

/** Attribute keys used on the instruments above. */
export const HeartlineMetricAttribute = {
  /** A `DisconnectReason`: timeout, client_closed, connection_lost, server_closed, protocol_error, rate_limited. */
  DisconnectReason: "heartline.disconnect.reason",
  /** An `UpgradeRejectReason`: not_found, origin_not_allowed, unauthorized… */
  UpgradeRejectReason: "heartline.upgrade.reject_reason",
  /** A `SessionEndReason`: expired, overflow, evicted, or the deliberate end's disconnect reason. */
  SessionEndReason: "heartline.session.end_reason",
  /** The HTTP status a refused upgrade was answered with (OpenTelemetry's HTTP key). */
  HttpStatusCode: "http.response.status_code",
  /** `receive` (from clients) or `transmit` (to clients): OpenTelemetry's network key. */
  Direction: "network.io.direction",
} as const;

/**
 * OpenTelemetry → Prometheus: the unit suffix the specification has the
 * exporter append (`s` → `_seconds`, `By` → `_bytes`; `{annotations}` add
 * none). `@opentelemetry/exporter-prometheus` (0.301) appends only `_total`,
 * so `prometheusViews()` renames the instruments for it.
 */
const PROMETHEUS_UNIT_SUFFIX: Readonly<Record<string, string>> = { s: "_seconds", By: "_bytes" };

/** Each instrument's unit (UCUM), as created. */
export const heartlineMetricUnits: Readonly<Record<HeartlineMetric, string>> = Object.freeze({
  [HeartlineMetric.Connections]: "{connection}",
  [HeartlineMetric.Disconnects]: "{connection}",
  [HeartlineMetric.ConnectionDuration]: "s",
  [HeartlineMetric.TimeoutLateness]: "s",
  [HeartlineMetric.UpgradesRejected]: "{request}",
  [HeartlineMetric.Messages]: "{message}",
  [HeartlineMetric.Frames]: "{frame}",
  [HeartlineMetric.SlowConsumerCloses]: "{connection}",
  [HeartlineMetric.RateLimitCloses]: "{connection}",
  [HeartlineMetric.OutboundBuffered]: "By",
  [HeartlineMetric.AcceptErrors]: "{error}",
  [HeartlineMetric.EventLoopDelayP99]: "s",
  [HeartlineMetric.EventLoopDelayMax]: "s",
  [HeartlineMetric.SessionsWaiting]: "{session}",
  [HeartlineMetric.Resumes]: "{resume}",
  [HeartlineMetric.SessionEnds]: "{session}",
  [HeartlineMetric.UndeliveredMessages]: "{message}",
  [HeartlineMetric.SessionEvictions]: "{session}",
  [HeartlineMetric.SessionRefusals]: "{session}",
});

/** A View renaming one instrument (the SDK's `ViewOptions` shape: pass to `new MeterProvider({ views })`). */
export interface RenameView {
  readonly instrumentName: string;
  readonly name: string;
}

/**
 * Views that give the Prometheus exposition the unit suffixes of the
 * OpenTelemetry → Prometheus specification, which the JavaScript exporter
 * (0.301) leaves out: `heartline.server.timeout.lateness` (unit `s`) is then
 * `heartline_server_timeout_lateness_seconds_bucket`, the outbound gauge
 * `heartline_server_outbound_buffered_bytes`. Only for a provider whose
 * reader is `PrometheusExporter`: an OTLP pipeline keeps the names (the
 * Collector appends the suffix itself). `extra` adds other packages' units
 * (e.g. `@heartline/redis`'s).
 */
export function prometheusViews(
  extra: Readonly<Record<string, string>> = {},
): readonly RenameView[] {
  const views: RenameView[] = [];
  for (const [name, unit] of Object.entries({ ...heartlineMetricUnits, ...extra })) {
    const suffix = PROMETHEUS_UNIT_SUFFIX[unit];
    if (suffix !== undefined)
      views.push(Object.freeze({ instrumentName: name, name: `${name}${suffix}` }));
  }
  return Object.freeze(views);
}

/**
 * Histogram bucket boundaries, in seconds (given to the SDK as `advice`; a
 * View the application registers overrides them).
 */
export const metricsDefaults = Object.freeze({
  /** Connections live seconds to hours: 1 s … 1 day. */
  connectionDurationBuckets: Object.freeze([
    1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 86_400,
  ]) as readonly number[],
  /**
   * How late a timeout is reported: 0 is exact, a healthy server stays in
   * the low milliseconds, seconds mean a blocked event loop.
   */
  timeoutLatenessBuckets: Object.freeze([
    0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  ]) as readonly number[],
});

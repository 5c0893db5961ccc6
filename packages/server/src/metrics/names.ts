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

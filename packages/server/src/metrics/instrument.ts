import { type Clock, CloseCode, DisconnectReason } from "@heartline/protocol";
import { type Attributes, type MeterProvider, metrics } from "@opentelemetry/api";
import type { DisconnectInfo } from "../core/connection-api.js";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import type { ServerEventName, ServerListeners } from "../core/listeners.js";
import type { ServerStats } from "../core/stats.js";
import { UpgradeRejectReason } from "../core/upgrade-rejection.js";
import {
  HeartlineMetricAttribute as A,
  HeartlineMetric as M,
  metricsDefaults,
  heartlineMetricUnits as U,
} from "./names.js";
import { instrumentSessions } from "./session-instruments.js";
import { observeWhileAlive } from "./weak-batch.js";

export type { MetricsOptions } from "./options.js";

/**
 * The part of the core the instrumentation uses: its public events, its
 * stats and its error channel. Structural, so the core can import this file
 * without this file importing the core (no cycle).
 */
export interface InstrumentableCore {
  on<E extends ServerEventName>(event: E, listener: ServerListeners[E]): () => void;
  stats(): ServerStats;
  reportError(error: HeartlineError): void;
}

/** What the instrumentation needs from the core besides its public surface. */
export interface InstrumentedTiming {
  readonly timeoutMs: number;
  readonly clock: Clock;
}

type AnyCore = InstrumentableCore;
type LatenessListener = (seconds: number, info: DisconnectInfo) => void;

/** Per core: who else wants each timeout's lateness (the dashboard, while watched). */
const latenessListeners = new WeakMap<object, Set<LatenessListener>>();

const RECEIVE: Attributes = Object.freeze({ [A.Direction]: "receive" });
const TRANSMIT: Attributes = Object.freeze({ [A.Direction]: "transmit" });

/**
 * The status each refusal reason is answered with (405 is `invalid_handshake`
 * too, for a non-GET): the series made at zero from the start.
 */
const REJECT_STATUS: Readonly<Record<UpgradeRejectReason, number>> = {
  [UpgradeRejectReason.NotFound]: 404,
  [UpgradeRejectReason.OriginNotAllowed]: 403,
  [UpgradeRejectReason.UnsupportedSubprotocol]: 400,
  [UpgradeRejectReason.Unauthorized]: 401,
  [UpgradeRejectReason.InvalidHandshake]: 400,
  [UpgradeRejectReason.ServerClosing]: 503,
  [UpgradeRejectReason.ServerFull]: 503,
  [UpgradeRejectReason.StoreUnavailable]: 503,
  [UpgradeRejectReason.AddressLimit]: 429,
  [UpgradeRejectReason.AuthenticateTimeout]: 401,
};

/** One frozen attribute set per reason, made once rather than per disconnect. */
const reasonAttributes = {} as Record<DisconnectReason, Attributes>;
for (const reason of Object.values(DisconnectReason)) {
  reasonAttributes[reason] = Object.freeze({ [A.DisconnectReason]: reason });
}

/**
 * Creates the server's instruments on `meterProvider` and feeds them from
 * the core's public surface: per-frame figures are read from `stats()` in
 * one batch callback at collection time (nothing is called per frame), the
 * rest from the `disconnect` and `upgradeRejected` events, which are rare.
 */
export function instrumentServer(
  core: AnyCore,
  meterProvider: MeterProvider | undefined,
  timing: InstrumentedTiming,
): void {
  const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter("@heartline/server");
  const connections = meter.createObservableUpDownCounter(M.Connections, {
    description: "Open Heartline connections.",
    unit: U[M.Connections],
  });
  const messages = meter.createObservableCounter(M.Messages, {
    description: "Application messages received (valid ones) and sent.",
    unit: U[M.Messages],
  });
  const frames = meter.createObservableCounter(M.Frames, {
    description: "Data frames received and sent, heartbeats included.",
    unit: U[M.Frames],
  });
  const outbound = meter.createObservableGauge(M.OutboundBuffered, {
    description: "Outbound bytes queued across connections (what maxBufferedBytesTotal bounds).",
    unit: U[M.OutboundBuffered],
  });
  const acceptErrors = meter.createObservableCounter(M.AcceptErrors, {
    description: "Accepts that failed for want of file descriptors (EMFILE/ENFILE).",
    unit: U[M.AcceptErrors],
  });
  const observed = [connections, messages, frames, outbound, acceptErrors];
  observeWhileAlive(meter, core, observed, (target, result) => {
    const stats = target.stats();
    result.observe(connections, stats.open);
    result.observe(messages, stats.messagesIn, RECEIVE);
    result.observe(messages, stats.messagesOut, TRANSMIT);
    result.observe(frames, stats.framesIn, RECEIVE);
    result.observe(frames, stats.framesOut, TRANSMIT);
    result.observe(outbound, stats.outboundBufferedBytes);
    result.observe(acceptErrors, stats.acceptErrors);
  });

  const disconnects = meter.createCounter(M.Disconnects, {
    description: "Ended connections, each counted once, by reason.",
    unit: U[M.Disconnects],
  });
  const duration = meter.createHistogram(M.ConnectionDuration, {
    description: "How long each connection lived, from accept to its disconnect report.",
    unit: U[M.ConnectionDuration],
    advice: { explicitBucketBoundaries: [...metricsDefaults.connectionDurationBuckets] },
  });
  const lateness = meter.createHistogram(M.TimeoutLateness, {
    description:
      "How long after its deadline (last data frame + timeoutMs) each timeout was reported.",
    unit: U[M.TimeoutLateness],
    advice: { explicitBucketBoundaries: [...metricsDefaults.timeoutLatenessBuckets] },
  });
  const slowConsumers = meter.createCounter(M.SlowConsumerCloses, {
    description: "Connections closed 1013 (outbound buffer past maxBufferedBytes).",
    unit: U[M.SlowConsumerCloses],
  });
  const rateLimited = meter.createCounter(M.RateLimitCloses, {
    description: "Connections closed 4429 for exceeding the rate limit.",
    unit: U[M.RateLimitCloses],
  });
  const rejected = meter.createCounter(M.UpgradesRejected, {
    description: "Upgrades refused with an HTTP status, before any WebSocket existed.",
    unit: U[M.UpgradesRejected],
  });
  // Every series from the start, at zero: an alert on `increase(…)` or a
  // rate needs the series to exist before its first event.
  for (const attributes of Object.values(reasonAttributes)) disconnects.add(0, attributes);
  for (const [reason, status] of Object.entries(REJECT_STATUS)) {
    rejected.add(0, { [A.HttpStatusCode]: status, [A.UpgradeRejectReason]: reason });
  }
  slowConsumers.add(0);
  rateLimited.add(0);

  const { clock, timeoutMs } = timing;
  // The core emits `disconnect` synchronously when it decides the end, so
  // `clock.now()` here is the report time.
  core.on("disconnect", (info) => {
    const now = clock.now();
    const attributes = reasonAttributes[info.reason];
    disconnects.add(1, attributes);
    duration.record((now - info.connectedAt) / 1000, attributes);
    if (info.reason === DisconnectReason.Timeout) {
      const seconds = (now - (info.lastHeardAt + timeoutMs)) / 1000;
      lateness.record(seconds);
      const listeners = latenessListeners.get(core);
      if (listeners !== undefined) notifyLateness(core, listeners, seconds, info);
    } else if (info.reason === DisconnectReason.RateLimited) {
      rateLimited.add(1);
    } else if (
      info.reason === DisconnectReason.ServerClosed &&
      info.code === CloseCode.TryAgainLater
    ) {
      slowConsumers.add(1);
    }
  });
  core.on("upgradeRejected", (rejection) => {
    rejected.add(1, {
      [A.HttpStatusCode]: rejection.status,
      [A.UpgradeRejectReason]: rejection.reason,
    });
  });
  instrumentSessions(core, meter);
}

function notifyLateness(
  core: AnyCore,
  listeners: Set<LatenessListener>,
  seconds: number,
  info: DisconnectInfo,
): void {
  for (const listener of listeners) {
    try {
      listener(seconds, info);
    } catch (cause) {
      core.reportError(
        new HeartlineError(ServerErrorCode.ListenerThrew, "a timeout-lateness listener threw", {
          cause,
        }),
      );
    }
  }
}

/**
 * Calls `listener` with the lateness (seconds) of every `timeout` the server
 * reports from now on: the same figure as `heartline.server.timeout.lateness`,
 * for in-process consumers such as `@heartline/dashboard`. Returns a function
 * that removes the listener.
 */
export function onTimeoutLateness(
  server: AnyCore | { readonly core: AnyCore },
  listener: LatenessListener,
): () => void {
  const core = "core" in server ? server.core : server;
  let listeners = latenessListeners.get(core);
  if (listeners === undefined) {
    listeners = new Set();
    latenessListeners.set(core, listeners);
  }
  const set = listeners;
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

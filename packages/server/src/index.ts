export {
  type Connection,
  type ConnectionInfo,
  createServerCore,
  type DisconnectInfo,
  HeartlineError,
  type RateLimit,
  type ServerCore,
  type ServerCoreOptions,
  ServerErrorCode,
  type ServerEventName,
  type ServerListeners,
  type ServerStats,
  type ServerTransport,
  serverDefaults,
  type TransportSink,
  type UpgradeRejection,
  UpgradeRejectReason,
  type UpgradeRequest,
} from "./core/index.js";
export {
  HeartlineMetric,
  HeartlineMetricAttribute,
  instrumentServer,
  type MetricsOptions,
  metricsDefaults,
  onTimeoutLateness,
} from "./metrics/index.js";
export { createServer, type HeartlineServer, type ServerOptions } from "./ws/create-server.js";

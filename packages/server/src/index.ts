// The `ws` adapter's declarations use `node:http`, `node:net`, `node:stream`
// and `Buffer`; this keeps them resolvable for a consumer whose tsconfig has
// `types: []` (TypeScript 6's default). `@types/node` is an optional peer.
/// <reference types="node" preserve="true" />
export {
  type Admission,
  type AdmissionOptions,
  type AdmissionRequest,
  type AuthenticateResult,
  type Connection,
  type ConnectionInfo,
  createServerCore,
  credentialsOf,
  type DisconnectInfo,
  HeartlineError,
  type RateLimit,
  type Refusal,
  type ResumeInfo,
  type ResumeOffer,
  type ResumeOptions,
  resumeDefaults,
  type ServerCore,
  type ServerCoreOptions,
  ServerErrorCode,
  type ServerEventName,
  type ServerListeners,
  type ServerStats,
  type ServerTransport,
  type SessionEndInfo,
  type SessionEndReason,
  type SessionStats,
  sameClientDefault,
  serverDefaults,
  type TransportSink,
  type UpgradeHeaders,
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

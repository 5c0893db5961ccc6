// The `ws` adapter's declarations use `node:http`, `node:net`, `node:stream`
// and `Buffer`; this keeps them resolvable for a consumer whose tsconfig has
// `types: []` (TypeScript 6's default). `@types/node` is an optional peer.
/// <reference types="node" preserve="true" />
export {
  type Admission,
  type AdmissionOptions,
  type AdmissionRequest,
  type AuthenticateContext,
  type AuthenticateResult,
  type CloseOptions,
  type Connection,
  type ConnectionInfo,
  type ConnectionState,
  createServerCore,
  credentialsOf,
  type DisconnectInfo,
  type ForwardedHeaders,
  type ForwardedReader,
  type ForwardedView,
  forwardedReader,
  HeartlineError,
  PROXY_IDLE_WARNING_MS,
  type RateLimit,
  type Refusal,
  type RejectedRequest,
  type ResumedInfo,
  type ResumeInfo,
  type ResumeOffer,
  type ResumeOptions,
  resumeDefaults,
  type ServerCore,
  type ServerCoreOptions,
  ServerErrorCode,
  type ServerEventName,
  type ServerListeners,
  type ServerState,
  type ServerStats,
  type ServerTransport,
  type SessionEndInfo,
  type SessionEndReason,
  type SessionStats,
  sameClientDefault,
  serverDefaults,
  type TransportSink,
  type TrustProxy,
  type TrustProxyOptions,
  type UpgradeHeaders,
  type UpgradeRejection,
  UpgradeRejectReason,
  type UpgradeRequest,
} from "./core/index.js";
export type { ResolvedResumeOptions } from "./core/resume/options.js";
// The session-store seam (issue 25): what a shared store (e.g. @heartline/redis) implements and uses.
export type {
  MaybePromise,
  OpenResult,
  SessionOwner,
  SessionStore,
  SessionStoreCounts,
  SessionStoreHooks,
  StoredEndCause,
  StoredSession,
  StoredSessionEnd,
  StoredSessionState,
} from "./core/resume/store-api.js";
export {
  formatToken,
  ID_BYTES,
  newSecret,
  parseToken,
  randomBase64url,
} from "./core/resume/token.js";
export { UnackedBuffer, type UnackedMessage } from "./core/resume/unacked-buffer.js";
export {
  HeartlineMetric,
  HeartlineMetricAttribute,
  heartlineMetricUnits,
  instrumentServer,
  type MetricsOptions,
  metricsDefaults,
  onTimeoutLateness,
  prometheusViews,
  type RenameView,
} from "./metrics/index.js";
export { createServer, type HeartlineServer, type ServerOptions } from "./ws/create-server.js";
export {
  createHealthHandler,
  type HealthOptions,
  type HealthReport,
  healthDefaults,
  readiness,
} from "./ws/health.js";

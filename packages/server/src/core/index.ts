export type {
  Admission,
  AdmissionOptions,
  AdmissionRequest,
  AuthenticateContext,
  AuthenticateResult,
  Refusal,
  UpgradeHeaders,
  UpgradeRequest,
} from "./admission-order.js";
export type { Connection, ConnectionState, DisconnectInfo } from "./connection-api.js";
export { credentialsOf } from "./credentials.js";
export { HeartlineError, ServerErrorCode } from "./errors.js";
export {
  type ForwardedHeaders,
  type ForwardedReader,
  type ForwardedView,
  forwardedReader,
  type TrustProxy,
  type TrustProxyOptions,
} from "./forwarded.js";
export type { RejectedRequest, ServerEventName, ServerListeners } from "./listeners.js";
export {
  type RateLimit,
  type ResolvedCoreOptions,
  type ServerCoreOptions,
  serverDefaults,
} from "./options.js";
export { resumeDefaults } from "./resume/defaults.js";
export {
  createMemorySessionStore,
  type MemorySessionStoreOptions,
  memorySessionStoreDefaults,
} from "./resume/memory-session-store.js";
export type { ResolvedResumeOptions, ResumeOptions } from "./resume/options.js";
export type {
  ResumedInfo,
  ResumeInfo,
  ResumeOffer,
  SessionAdoptedInfo,
  SessionEndInfo,
  SessionEndReason,
  SessionMovedInfo,
  SessionStats,
} from "./resume/resume-api.js";
export { sameClientDefault } from "./resume/same-client.js";
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
} from "./resume/store-api.js";
export { formatToken, ID_BYTES, newSecret, parseToken, randomBase64url } from "./resume/token.js";
export { UnackedBuffer, type UnackedMessage } from "./resume/unacked-buffer.js";
// The eviction rule of waiting sessions, for a shared store to apply the same one (issue 25).
export {
  evictionClass,
  type WaitingSession,
  WaitingSessions,
} from "./resume/waiting-sessions.js";
export {
  type CloseOptions,
  createServerCore,
  PROXY_IDLE_WARNING_MS,
  type ServerCore,
  type ServerState,
} from "./server-core.js";
export { SlicedSweep, type SlicedSweepOptions } from "./sliced-sweep.js";
export type { ServerStats } from "./stats.js";
export type { ConnectionInfo, ServerTransport, TransportSink } from "./transport.js";
export { type UpgradeRejection, UpgradeRejectReason } from "./upgrade-rejection.js";

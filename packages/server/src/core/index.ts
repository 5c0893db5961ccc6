export type {
  Admission,
  AdmissionOptions,
  AdmissionRequest,
  AuthenticateResult,
  Refusal,
  UpgradeHeaders,
  UpgradeRequest,
} from "./admission-order.js";
export type { Connection, DisconnectInfo } from "./connection-api.js";
export { credentialsOf } from "./credentials.js";
export { HeartlineError, ServerErrorCode } from "./errors.js";
export type { ServerEventName, ServerListeners } from "./listeners.js";
export {
  type RateLimit,
  type ResolvedCoreOptions,
  type ServerCoreOptions,
  serverDefaults,
} from "./options.js";
export { resumeDefaults } from "./resume/defaults.js";
export type { ResumeOptions } from "./resume/options.js";
export type {
  ResumeInfo,
  ResumeOffer,
  SessionEndInfo,
  SessionEndReason,
  SessionStats,
} from "./resume/resume-api.js";
export { sameClientDefault } from "./resume/session-store.js";
export { createServerCore, type ServerCore } from "./server-core.js";
export type { ServerStats } from "./stats.js";
export type { ConnectionInfo, ServerTransport, TransportSink } from "./transport.js";
export { type UpgradeRejection, UpgradeRejectReason } from "./upgrade-rejection.js";

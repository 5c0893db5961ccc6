export { HeartlineError, ServerErrorCode } from "./errors.js";
export {
  type Connection,
  type DisconnectInfo,
  type ServerEventName,
  type ServerListeners,
  type ServerStats,
  type UpgradeRejection,
  UpgradeRejectReason,
} from "./events.js";
export {
  type RateLimit,
  type ResolvedCoreOptions,
  type ServerCoreOptions,
  serverDefaults,
} from "./options.js";
export { createServerCore, type ServerCore } from "./server-core.js";
export type {
  ConnectionInfo,
  ServerTransport,
  TransportSink,
  UpgradeRequest,
} from "./transport.js";

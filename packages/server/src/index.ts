// The `ws` adapter's declarations use `node:http`, `node:net`, `node:stream`
// and `Buffer`; this keeps them resolvable for a consumer whose tsconfig has
// `types: []` (TypeScript 6's default). `@types/node` is an optional peer.
/// <reference types="node" preserve="true" />
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
export { createServer, type HeartlineServer, type ServerOptions } from "./ws/create-server.js";

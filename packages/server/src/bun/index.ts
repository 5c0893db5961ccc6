// `@heartline/server/bun`: the Heartline server on Bun. The core's API is
// re-exported so one import is enough on Bun.

export * from "../core/index.js";
export {
  type BunConnectionData,
  type BunServer,
  type BunServerOptions,
  type BunServerWebSocket,
  type BunWebSocketHandler,
  createServer,
  type HeartlineBunServer,
} from "./create-server.js";

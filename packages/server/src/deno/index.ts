// `@heartline/server/deno`: the Heartline server on Deno. The core's API is
// re-exported so one import is enough on Deno.

export * from "../core/index.js";
export {
  createServer,
  type DenoServeHandlerInfo,
  type DenoServerOptions,
  type HeartlineDenoServer,
} from "./create-server.js";

export { type Backoff, fullJitterBackoff, goodbyeDelay } from "./backoff.js";
export { createClient } from "./client.js";
export { ClientErrorCode, HeartlineClientError } from "./errors.js";
export {
  type ClientOptions,
  clientDefaults,
  type PerAttempt,
  type ReconnectOptions,
  type RetryQuestion,
} from "./options.js";
export type { PageEvent } from "./page-life.js";
export type {
  ClientDisconnectReason,
  ClientEvents,
  ClientSnapshot,
  ClientState,
  ClientStats,
  DisconnectEvent,
  HeartbeatControl,
  HeartlineClient,
  ResumedEvent,
  RoundTripTime,
  UndeliveredEvent,
} from "./types.js";
export type { WebSocketConstructor, WebSocketLike } from "./websocket.js";

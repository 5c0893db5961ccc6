export { attachPresence, type Presence } from "./attach-presence.js";
export {
  PresenceError,
  PresenceErrorCode,
  SessionStoreError,
  SessionStoreErrorCode,
} from "./errors.js";
export {
  type PresenceConnectEvent,
  type PresenceDisconnectEvent,
  type PresenceEntry,
  type PresenceEvent,
  type PresenceMovedEvent,
  PresenceReason,
} from "./events.js";
export {
  type InstrumentablePresence,
  instrumentPresence,
  PresenceMetric,
} from "./metrics.js";
export {
  type AttachPresenceOptions,
  type PresenceConnection,
  type PresenceDisconnectReport,
  type PresenceListeners,
  type PresenceReaderOptions,
  type PresenceSessionAdopted,
  type PresenceSessionEnd,
  type PresenceSessionMoved,
  type PresenceSource,
  type PresenceState,
  type PresenceStats,
  presenceDefaults,
} from "./options.js";
export { createPresenceReader, type PresenceReader, type SubscribeOptions } from "./reader.js";
export type { RedisClient } from "./redis-client.js";
export {
  createRedisSessionStore,
  type RedisSessionStore,
  type RedisSessionStoreStats,
} from "./redis-session-store.js";
export type { RedisPipeline, SessionRedisClient } from "./session-batch.js";
export {
  type RedisSessionStoreOptions,
  redisSessionStoreDefaults,
} from "./session-store-options.js";

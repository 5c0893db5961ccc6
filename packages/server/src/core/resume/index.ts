// Transport-free building blocks of resumable sessions, gathered for the
// unit tests. The server core imports the files it needs directly (its
// orchestration is `resumption.ts`, over the store seam `store-api.ts`; the connection names the session and
// ack-queue types); the public names are exported from the core's index.
export { resumeDefaults } from "./defaults.js";
export {
  createMemorySessionStore,
  type MemorySessionStoreOptions,
  memorySessionStoreDefaults,
  sameOwner,
} from "./memory-session-store.js";
export { type ResolvedResumeOptions, resolveResumeOptions } from "./options.js";
export { sameClientDefault } from "./same-client.js";
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
} from "./store-api.js";
export {
  base64url,
  formatToken,
  ID_BYTES,
  newSecret,
  type ParsedToken,
  parseToken,
  randomBase64url,
  SECRET_BYTES,
  secretsEqual,
} from "./token.js";
export {
  type ByteBudget,
  type PushResult,
  UnackedBuffer,
  type UnackedBufferLimits,
  type UnackedMessage,
  utf8Length,
} from "./unacked-buffer.js";

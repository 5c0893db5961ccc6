// Transport-free building blocks of resumable sessions, gathered for the
// unit tests. The server core imports the files it needs directly
// (`resumption.ts` is its one entry to the folder); the public names are
// exported from the core's index.
export { resumeDefaults } from "./defaults.js";
export {
  type ResumableSession,
  type SessionEnd,
  type SessionEndCause,
  type SessionState,
  SessionStore,
  type SessionStoreOptions,
  type SessionStoreStats,
  sameClientDefault,
  type TakeResult,
} from "./session-store.js";
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

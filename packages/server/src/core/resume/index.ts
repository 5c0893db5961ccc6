// Transport-free building blocks for resumable sessions. The integrator
// exports these from the core index; nothing else imports this folder yet.
export { resumeDefaults } from "./defaults.js";
export {
  type ResumableSession,
  type SessionEnd,
  SessionEndReason,
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

export { ACK_EVERY_MESSAGES } from "./ack-cadence.js";
export {
  type ClientDataOf,
  defineProtocol,
  type HeartlineProtocol,
  type ServerDataOf,
  type ValidateResult,
  validateData,
} from "./app-protocol.js";
export { type Clock, clockOf, systemClock, type TimerHandle, type TimerSource } from "./clock.js";
export {
  type CloseCodeInfo,
  closeCodeInfo,
  disconnectReasonFor,
  shouldReconnect,
} from "./close-codes.js";
export {
  CloseCode,
  CREDENTIALS_CHARS,
  CREDENTIALS_OFFER_PREFIX,
  CREDENTIALS_PATTERN,
  DisconnectReason,
  ErrorCode,
  MAX_RESUME_TOKEN_LENGTH,
  MAX_SEQ,
  PROTOCOL_VERSION,
  RESUME_SUBPROTOCOL,
  RESUME_TOKEN_OFFER_PREFIX,
  RESUME_TOKEN_PATTERN,
  ResumeFailure,
  SUBPROTOCOL,
} from "./constants.js";
export {
  type DecodeClientOptions,
  type DecodeError,
  DecodeErrorCode,
  type DecodeResult,
  decodeClientFrame,
  decodeServerFrame,
} from "./decode.js";
export {
  encodeAckFrame,
  encodeClientMessage,
  encodeMessageFrame,
  encodeServerMessage,
} from "./encode.js";
export { LISTENER_THREW, listenerThrew, rethrowLater } from "./listeners.js";
export * from "./schemas.js";
export { SeqVerdict, seqVerdict } from "./seq-verdict.js";
export { SilenceTimer } from "./silence-timer.js";
export type { StandardSchemaV1 } from "./standard-schema.js";
export {
  isCredentials,
  isResumeToken,
  parseSubprotocolOffer,
  type SubprotocolOffer,
  subprotocolOffers,
} from "./subprotocols.js";

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
  DisconnectReason,
  ErrorCode,
  MAX_SEQ,
  PROTOCOL_VERSION,
  SUBPROTOCOL,
} from "./constants.js";
export {
  type DecodeError,
  DecodeErrorCode,
  type DecodeResult,
  decodeClientFrame,
  decodeServerFrame,
} from "./decode.js";
export { encodeClientMessage, encodeServerMessage } from "./encode.js";
export { LISTENER_THREW, listenerThrew, rethrowLater } from "./listeners.js";
export * from "./schemas.js";
export { SilenceTimer } from "./silence-timer.js";
export type { StandardSchemaV1 } from "./standard-schema.js";

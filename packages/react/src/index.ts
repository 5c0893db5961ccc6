export { HeartlineReactError, ReactErrorCode } from "./errors.js";
export {
  reactDefaults,
  useHeartline,
  useHeartlineMessages,
  useHeartlineSend,
  useHeartlineStatus,
} from "./hooks.js";
export { HeartlineContext, HeartlineProvider, type HeartlineProviderProps } from "./provider.js";

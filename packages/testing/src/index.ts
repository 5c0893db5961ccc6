export { harnessDefaults } from "./defaults.js";
export type { FrameInfo, FramePredicate, HarnessServer, LinkControls } from "./driver.js";
export { HarnessError, HarnessErrorCode } from "./errors.js";
export { createHarness } from "./harness.js";
export type {
  ClientEntry,
  ControlEntry,
  Direction,
  FrameEntry,
  LinkEntry,
  ServerEntry,
  Timeline,
  TimelineEntry,
} from "./timeline.js";
export type {
  DisconnectMatch,
  ExpectNo,
  FrameMatch,
  Harness,
  HarnessClient,
  HarnessClientOptions,
  HarnessOptions,
  PageControls,
  RecordedDisconnect,
  WaitFor,
  WaitOptions,
} from "./types.js";

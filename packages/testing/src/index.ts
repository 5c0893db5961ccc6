// The one fake-timers → Clock adapter lives in @heartline/protocol (which
// must not depend on fake-timers, so it is structural); the kit re-exports it
// for tests that build their own clock.
export { clockOf, type TimerSource } from "@heartline/protocol";
export type { WhileBlackholed } from "./blackhole.js";
export { harnessDefaults } from "./defaults.js";
export type {
  BlackholeOptions,
  FrameInfo,
  FramePredicate,
  HarnessServer,
  LinkControls,
} from "./driver.js";
export { HarnessError, HarnessErrorCode } from "./errors.js";
export { FakeServerTransport } from "./fake-transport.js";
export { createHarness } from "./harness.js";
export {
  type LoopbackProxy,
  type LoopbackProxyOptions,
  loopbackProxyDefaults,
  startLoopbackProxy,
} from "./loopback/proxy.js";
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
export { until } from "./until.js";

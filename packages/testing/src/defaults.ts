/**
 * The harness's defaults. Every one can be overridden through
 * `createHarness` or `harness.client` options; 0 always means 0.
 */
export const harnessDefaults = Object.freeze({
  /** `"memory"`: the in-memory transport (no sockets). `"loopback"`: real sockets on 127.0.0.1. */
  transport: "memory" as "memory" | "loopback",
  /** The fake clock's start time (ms since the epoch) when the harness creates its own clock. */
  startAt: 0,
  /** How much fake time a `waitFor.*` may advance before it fails, when no `within` is given. */
  withinMs: 60_000,
  /** Seed of each client's default `random` (client n gets seed + n): runs repeat exactly. */
  seed: 1,
  /**
   * Loopback only: real I/O counts as settled after this many wall-clock
   * milliseconds with no byte moving and no socket event.
   */
  quietMs: 5,
  /** Loopback only: the wall-clock bound on waiting for I/O to settle after one step. */
  quietTimeoutMs: 5_000,
});

/** An opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/**
 * Where every Heartline timer comes from. Inject one to drive time by hand;
 * the default reads the globals at each call, so `@sinonjs/fake-timers`
 * installed at any moment (or vitest's `vi.useFakeTimers()`) drives it too.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a pending `setTimeout`; a handle already fired or cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Runs `callback` once the I/O already waiting has been read: Node's
   * `setImmediate` (the check phase follows the poll phase, which follows the
   * timers). A timer that decides "nothing heard" defers its verdict to here,
   * so data that arrived while the loop was busy counts first. Optional: a
   * clock without it runs the verdict in the timer itself.
   */
  afterIO?(callback: () => void): void;
}

/** The real clock: `Date.now()` and the global timers, read at each call. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle =>
    globalThis.setTimeout(callback, ms),
  clearTimeout: (handle: TimerHandle) =>
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
  // Where there is no setImmediate (browsers), a 0 ms timeout still runs after the I/O already queued.
  afterIO: (callback: () => void): void => {
    const immediate = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
    if (immediate !== undefined) immediate(callback);
    else globalThis.setTimeout(callback, 0);
  },
});

/**
 * What `clockOf` needs of a timer source: an un-installed
 * `@sinonjs/fake-timers` clock (`FakeTimers.createClock()`) fits as it is.
 * Structural, so this package depends on no fake-timers types.
 */
export interface TimerSource<H = unknown> {
  readonly now: number;
  /** Runs `callback` once, `ms` after `now`; returns the handle `clearTimeout` takes. */
  setTimeout(callback: () => void, ms: number): H;
  /** Cancels a pending `setTimeout` by its handle. */
  clearTimeout(handle: H): void;
}

/**
 * A Heartline `Clock` over a fake-timers clock (or any `TimerSource`): the one
 * adapter every test and the testing kit use, so the clock a test advances is
 * the clock Heartline's timers run on, with nothing global patched.
 */
export function clockOf<H>(timers: TimerSource<H>): Clock {
  // No `afterIO`: fake-timers schedules a 0 ms callback made during a tick 1 ms later, which would move
  // every boundary; a test of the loop's phase order injects its own (server test abuse-stall.test.ts).
  return {
    now: () => timers.now,
    setTimeout: (callback, ms) => timers.setTimeout(callback, ms),
    clearTimeout: (handle) => timers.clearTimeout(handle as H),
  };
}

import type { Clock } from "@heartline/protocol";

/**
 * `clock` with every timer it sets unref'd where the platform has it
 * (Node's and Bun's timers; a fake clock's handles may have it too): the
 * resume window of a detached session must not keep a process alive that
 * has nothing else left to do (after `close()`, say). Runtimes without
 * `unref` (browsers, Deno's numbers) get the timer as it is.
 */
export function unrefClock(clock: Clock): Clock {
  return {
    now: () => clock.now(),
    setTimeout: (callback, ms) => {
      const handle = clock.setTimeout(callback, ms);
      (handle as { unref?: () => void } | undefined)?.unref?.();
      return handle;
    },
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
}

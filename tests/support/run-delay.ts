// How long a process was kept off the CPU by others (issue 20, point 4): the
// margin a timing bound in the fault suite may add for a busy machine. Linux
// counts, per thread, the time it spent runnable but waiting on a run queue
// (/proc/<pid>/schedstat, second field, in nanoseconds; <pid> is the main
// thread, which runs every JavaScript callback). That is exactly the delay a
// starved process adds to its timers and replies, and none of the time it
// spent working: a server slow by its own fault gets no margin from it.
import fs from "node:fs";

/**
 * The main thread's total run-queue wait so far, in ms; 0 where the kernel
 * does not count it (not Linux, or schedstats off), so no margin is given.
 */
export function runDelayMs(pid: number = process.pid): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(/\s+/);
    const waited = Number(fields[1]);
    return Number.isFinite(waited) ? waited / 1e6 : 0;
  } catch {
    return 0;
  }
}

/** Cumulative run-delay readings of some processes, taken every `everyMs`. */
export interface RunDelaySampler {
  /**
   * Upper bound on the run-queue wait of `pid` within [from, to] (Date.now()
   * times): the readings just outside the window, so a coarse or late
   * reading only widens it.
   */
  within(pid: number, from: number, to: number): number;
  stop(): void;
}

export function sampleRunDelay(pids: readonly number[], everyMs = 10): RunDelaySampler {
  const samples = new Map<number, { t: number; ms: number }[]>(pids.map((p) => [p, []]));
  const take = () => {
    const t = Date.now();
    for (const [pid, list] of samples) list.push({ t, ms: runDelayMs(pid) });
  };
  take();
  // A measuring instrument's period, not a wait for an outcome.
  const timer = setInterval(take, everyMs);
  return {
    within(pid, from, to) {
      const list = samples.get(pid) ?? [];
      if ((list[list.length - 1]?.t ?? 0) < to) take();
      let before = list[0];
      let after = list[list.length - 1];
      for (const s of list) {
        if (s.t <= from) before = s;
        if (s.t >= to) {
          after = s;
          break;
        }
      }
      return before && after ? Math.max(0, after.ms - before.ms) : 0;
    },
    stop() {
      clearInterval(timer);
      take();
    },
  };
}

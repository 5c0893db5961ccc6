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
  return schedstatMs(pid).waiting;
}

/** The main thread's time on a CPU and waiting for one, so far, in ms (0 where not counted). */
function schedstatMs(pid: number): { running: number; waiting: number } {
  try {
    const [running, waiting] = fs
      .readFileSync(`/proc/${pid}/schedstat`, "utf8")
      .trim()
      .split(/\s+/)
      .map((f) => Number(f) / 1e6);
    return Number.isFinite(running) && Number.isFinite(waiting)
      ? { running: running!, waiting: waiting! }
      : { running: 0, waiting: 0 };
  } catch {
    return { running: 0, waiting: 0 };
  }
}

/** Cumulative run-delay readings of some processes, taken every `everyMs`. */
export interface RunDelaySampler {
  /**
   * The run-queue wait of `pid` within [from, to] (Date.now() times): the
   * cumulative reading interpolated linearly between the readings around each
   * end (a window shorter than the sampling period gets its share, not the
   * whole period's wait).
   */
  within(pid: number, from: number, to: number): number;
  /**
   * The time `pid` was not idle within [from, to]: on a CPU (its own work)
   * or waiting for one. Whatever is left of the window, it sat idle and
   * could have read a socket.
   */
  busyWithin(pid: number, from: number, to: number): number;
  stop(): void;
}

export function sampleRunDelay(pids: readonly number[], everyMs = 5): RunDelaySampler {
  type Sample = { t: number; ms: number; busy: number };
  const samples = new Map<number, Sample[]>(pids.map((p) => [p, []]));
  const take = () => {
    const t = Date.now();
    for (const [pid, list] of samples) {
      const { running, waiting } = schedstatMs(pid);
      list.push({ t, ms: waiting, busy: running + waiting });
    }
  };
  take();
  // A measuring instrument's period, not a wait for an outcome.
  const timer = setInterval(take, everyMs);
  /** The cumulative wait at `t`, linear between the readings around it. */
  const at = (list: readonly Sample[], t: number, field: "ms" | "busy"): number => {
    let lo = 0;
    let hi = list.length - 1;
    if (t <= list[lo]!.t) return list[lo]![field];
    if (t >= list[hi]!.t) return list[hi]![field];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.t <= t) lo = mid;
      else hi = mid;
    }
    const a = list[lo]!;
    const b = list[hi]!;
    return b.t === a.t ? b[field] : a[field] + ((b[field] - a[field]) * (t - a.t)) / (b.t - a.t);
  };
  const between = (pid: number, from: number, to: number, field: "ms" | "busy"): number => {
    const list = samples.get(pid);
    if (!list || list.length === 0) return 0;
    if (list[list.length - 1]!.t < to) take();
    return Math.max(0, at(list, to, field) - at(list, from, field));
  };
  return {
    within: (pid, from, to) => between(pid, from, to, "ms"),
    busyWithin: (pid, from, to) => between(pid, from, to, "busy"),
    stop() {
      clearInterval(timer);
      take();
    },
  };
}

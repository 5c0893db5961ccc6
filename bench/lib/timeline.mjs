// What the machine and the server process were doing, moment by moment,
// beside the server's own event-loop stalls (issue 26: "tell a stall of the
// machine from a stall of the server"). Sampled from /proc every few tens of
// milliseconds by the orchestrator, on epoch time so the server's stall
// records (servers/common.mjs, `Date.now()` at the end of each stall) line
// up with it.
//
// For each stall the question is where the server's main thread was during
// it, which /proc/<pid>/schedstat answers: time on a CPU (its own work: JS,
// GC, syscalls) or time runnable but waiting for one (another task on its
// core, or the hypervisor: steal). A server that was mostly *running* during
// its stall stalled itself; one that was mostly *waiting* was stalled by the
// machine.
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Clock ticks of one CPU from a /proc/stat line: busy (user+nice+system+irq+softirq), idle, steal, softirq. */
function cpuLine(fields) {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal, softirq };
}

/** Every CPU's tick counters now (`cpu0`, `cpu1`, …). */
export function readCpus() {
  const cpus = {};
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match) cpus[`cpu${match[1]}`] = cpuLine(match[2].trim().split(/\s+/));
  }
  return cpus;
}

/** The main thread of `pid`: ns on a CPU, ns runnable but waiting (0s once it is gone). */
export function readSchedstat(pid) {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(/\s+/);
    return { runNs: Number(run), waitNs: Number(wait) };
  } catch {
    return { runNs: 0, waitNs: 0 };
  }
}

/**
 * ns on a CPU of `pid`'s other threads together (V8's GC helpers and
 * compiler threads, libuv's pool): pinned to the same core, they take it
 * from the main thread, so a stall while they ran is the server's own.
 */
export function readHelperRunNs(pid) {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (tid === String(pid)) continue;
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    // the process is gone
  }
  return total;
}

const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Samples the CPUs and `pid`'s schedstat every `periodMs` until `stop()`,
 * which returns the samples ({ at, cpus, runNs, waitNs, helperRunNs }).
 */
export function startTimeline(pid, periodMs = 25) {
  const samples = [];
  const sample = () =>
    samples.push({
      at: epochNow(),
      cpus: readCpus(),
      ...readSchedstat(pid),
      helperRunNs: readHelperRunNs(pid),
    });
  sample();
  const timer = setInterval(sample, periodMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}

/** Linear interpolation of a cumulative counter `read(sample)` at time `at`. */
function valueAt(samples, at, read) {
  if (at <= samples[0].at) return read(samples[0]);
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i];
    if (b.at < at) continue;
    const a = samples[i - 1];
    const span = b.at - a.at;
    const f = span > 0 ? (at - a.at) / span : 1;
    return read(a) + f * (read(b) - read(a));
  }
  return read(samples.at(-1));
}

const delta = (samples, from, to, read) =>
  valueAt(samples, to, read) - valueAt(samples, from, read);

/** A CPU's shares of [from, to]: busy, steal and softirq as fractions of all its ticks. */
function cpuShares(samples, from, to, cpu) {
  const busy = delta(samples, from, to, (s) => s.cpus[cpu]?.busy ?? 0);
  const idle = delta(samples, from, to, (s) => s.cpus[cpu]?.idle ?? 0);
  const steal = delta(samples, from, to, (s) => s.cpus[cpu]?.steal ?? 0);
  const softirq = delta(samples, from, to, (s) => s.cpus[cpu]?.softirq ?? 0);
  const total = busy + idle + steal;
  return total > 0
    ? { busy: busy / total, steal: steal / total, softirq: softirq / total }
    : { busy: 0, steal: 0, softirq: 0 };
}

/**
 * Reads a phase's stalls (`{ at, ms }`, at = epoch ms at the stall's end)
 * against the timeline: per stall the server's running and waiting time,
 * then totals. `serverCpu` is the core the server is pinned to.
 */
export function explainStalls(samples, stalls, { serverCpu = "cpu0", from, to, overMs = 50 }) {
  const phase = {
    seconds: (to - from) / 1000,
    serverCore: cpuShares(samples, from, to, serverCpu),
    waitShare: delta(samples, from, to, (s) => s.waitNs) / 1e6 / Math.max(1, to - from),
  };
  let stallMs = 0;
  let runningMs = 0;
  let waitingMs = 0;
  let helpersMs = 0;
  let stealTicks = 0;
  const big = [];
  for (const stall of stalls) {
    const start = stall.at - stall.ms;
    const running = delta(samples, start, stall.at, (s) => s.runNs) / 1e6;
    const waiting = delta(samples, start, stall.at, (s) => s.waitNs) / 1e6;
    const helpers = delta(samples, start, stall.at, (s) => s.helperRunNs) / 1e6;
    stallMs += stall.ms;
    runningMs += running;
    waitingMs += waiting;
    helpersMs += helpers;
    stealTicks += cpuShares(samples, start, stall.at, serverCpu).steal * stall.ms;
    if (stall.ms >= overMs) {
      big.push({
        at: Math.round(stall.at),
        ms: Math.round(stall.ms),
        runningMs: Math.round(running),
        waitingMs: Math.round(waiting),
        helpersMs: Math.round(helpers),
        steal: Math.round(cpuShares(samples, start, stall.at, serverCpu).steal * 100) / 100,
      });
    }
  }
  return {
    ...phase,
    stalls: stalls.length,
    over: big.length,
    overMs,
    stallMs: Math.round(stallMs),
    // Of the time the loop was held: the server on a CPU (its own work) vs runnable and waiting (the machine).
    runningShare: stallMs > 0 ? runningMs / stallMs : null,
    waitingShare: stallMs > 0 ? waitingMs / stallMs : null,
    // Of the waiting: the server's own other threads on its core (GC helpers, compiler, libuv pool).
    helpersShare: stallMs > 0 ? helpersMs / stallMs : null,
    stealShareInStalls: stallMs > 0 ? stealTicks / stallMs : null,
    biggest: big.sort((a, b) => b.ms - a.ms).slice(0, 10),
  };
}

// What every server under test shares: its settings from the environment and
// the IPC handshake with the orchestrator (bench/run.mjs).

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";

/** X, the heartbeat interval; the timeout is 2X everywhere. */
export const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
export const timeoutMs = 2 * intervalMs;
export const host = "127.0.0.1";

/**
 * Tells the orchestrator the server listens, and answers its `stats`
 * requests with `getStats()` (counts kept by the server script itself).
 */
export function announceReady({ port, path, getStats }) {
  process.on("message", (message) => {
    if (message?.type === "profile-start") void startProfile();
    if (message?.type === "profile-stop") void stopProfile(message.path);
    if (message?.type === "heap-sampling-start") void startHeapSampling();
    if (message?.type === "heap-sampling-stop") void stopHeapSampling(message.path);
    if (message?.type === "gc-tally-reset") resetGcTally();
    if (message?.type === "gc-tally") process.send({ type: "gc-tally", tally: readGcTally() });
    if (message?.type === "stats") process.send({ type: "stats", stats: getStats() });
    // A full collection before a memory reading (the orchestrator starts servers with --expose-gc).
    if (message?.type === "gc") {
      globalThis.gc?.();
      const { heapUsed, external } = process.memoryUsage();
      // Committed size per V8 space: tells retained objects from a grown young generation.
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]),
      );
      process.send({
        type: "gc-done",
        collected: typeof globalThis.gc === "function",
        heapUsed,
        external,
        spaces,
      });
    }
  });
  process.send({ type: "ready", port, path });
}

// GC activity over a phase (steady window, silence), from V8's own gc entries:
// count and total pause per kind. Collections the orchestrator forced with
// gc() for a memory reading are left out (they carry the FORCED flag), and so
// is anything before the last reset. The server's event-loop delay over the
// same phase tells how long its loop was held (by GC or anything else).
const GC_KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "markCompact",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incrementalMarking",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakCallbacks",
};
let gcTally;
let gcTallySince = performance.now();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

/** Under --trace-gc-nvp (`pnpm bench --trace-gc`), marks each phase in V8's trace on stdout. */
const tracing = process.execArgv.includes("--trace-gc-nvp");

// Each stall of the event loop over STALL_MS, as { at (epoch ms at its end),
// ms }: the orchestrator lines them up with /proc (bench/lib/timeline.mjs)
// to tell whether the server was running or waiting for a CPU meanwhile.
// One 10 ms interval timer, the same in every server under test.
const STALL_TICK_MS = 10;
const STALL_MS = 20;
let stalls = [];
let lastTick = performance.now();
setInterval(() => {
  const now = performance.now();
  const held = now - lastTick - STALL_TICK_MS;
  lastTick = now;
  if (held >= STALL_MS) stalls.push({ at: performance.timeOrigin + now, ms: held });
}, STALL_TICK_MS).unref();

function resetGcTally() {
  if (tracing) process.stdout.write(`bench-phase-start pid=${process.pid}\n`);
  stalls = [];
  gcTally = {};
  for (const kind of Object.values(GC_KINDS)) gcTally[kind] = { count: 0, totalMs: 0, maxMs: 0 };
  gcTallySince = performance.now();
  loopDelay.reset();
  loopDelay.enable();
}

function readGcTally() {
  if (tracing) process.stdout.write(`bench-phase-end pid=${process.pid}\n`);
  return {
    ...gcTally,
    seconds: (performance.now() - gcTallySince) / 1000,
    loopDelayMaxMs: loopDelay.max / 1e6,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    // The phase's whole event-loop delay histogram, in ms (issue 26: per-run histograms for both servers).
    loopDelayMs: {
      p50: loopDelay.percentile(50) / 1e6,
      p90: loopDelay.percentile(90) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      p999: loopDelay.percentile(99.9) / 1e6,
      max: loopDelay.max / 1e6,
      count: loopDelay.count,
    },
    stalls,
  };
}

resetGcTally();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.startTime < gcTallySince) continue;
    if (entry.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) continue;
    const slot = gcTally[GC_KINDS[entry.detail.kind]];
    if (!slot) continue;
    slot.count++;
    slot.totalMs += entry.duration;
    if (entry.duration > slot.maxMs) slot.maxMs = entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

// The orchestrator going away (even by SIGKILL) closes the IPC channel: follow it.
process.on("disconnect", () => process.exit(0));
// An orderly exit on SIGTERM, so that `--cpu-prof` gets to write its profile.
process.on("SIGTERM", () => process.exit(0));

// --profile: a CPU profile of the steady window only (connect and silence
// phases left out), taken in-process through the inspector.
let session;

function post(method, params = {}) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function startProfile() {
  session = new Session();
  session.connect();
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 1000 });
  await post("Profiler.start");
}

// --heap-sampling: V8's sampling heap profiler over the steady window. With
// includeObjectsCollectedByMajorGC and not ...ByMinorGC, the profile holds
// what was allocated in the window and survived at least one scavenge: the
// garbage that gets promoted and costs full collections later.
async function startHeapSampling() {
  session = new Session();
  session.connect();
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
}

async function stopHeapSampling(path) {
  const { profile } = await post("HeapProfiler.stopSampling");
  writeFileSync(path, JSON.stringify(profile));
  session.disconnect();
  process.send({ type: "heap-sampling-written", path });
}

async function stopProfile(path) {
  const { profile } = await post("Profiler.stop");
  writeFileSync(path, JSON.stringify(profile));
  session.disconnect();
  process.send({ type: "profile-written", path });
}

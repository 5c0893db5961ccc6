// Issue 26, parts 2 and 3 (`pnpm bench:scale`): Heartline at up to 100,000
// connections on one machine, in several server processes on one port
// (node:cluster), sessions and presence in Redis; then a rolling restart of
// every server process under load. See bench/README.md, "Scale: several
// processes (bench/scale.mjs)".
//
//   node bench/scale.mjs [--part=steady,rolling] [--n=1000,10000,50000,100000]
//                        [--topology=cluster,ports] [--compare-at=100000]
//                        [--rolling-n=100000] [--windows=default,0]
//                        [--workers=W] [--cap=C] [--interval=15000] [--window=30] [--cps=1000]
//                        [--sampled=1000] [--rate=1]
//
// steady   for each N: the cluster (one port, the primary's round-robin) at X,
//          5 % of the clients going silent; at --compare-at also the same
//          workers on ports of their own (no primary in the path), the load
//          spreading its clients over them. Detection p99, healthy clients
//          timed out, RSS and CPU of every server process (primary
//          included), Redis memory and CPU.
// rolling  at --rolling-n: every worker restarted in turn (its replacement
//          forked first, then the old one's close(): goodbye, sessions handed
//          over through Redis) while --sampled clients echo numbered
//          messages; once with the server's goodbye window (default) and once
//          with a window of 0.
//
// Servers on core 0 (the primary and its workers), load, probe and
// redis-server on core 1. Every process is bounded in time and killed at the
// end, also on failure or Ctrl-C.

import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline } from "./lib/build-heartline.mjs";
import { decomposeDetections, describeDecomposition } from "./lib/decompose.mjs";
import { describeMachine, openFileLimits } from "./lib/machine.mjs";
import { describeNetDelta, netDelta, readNetCounters } from "./lib/net-drops.mjs";
import {
  cpuSeconds,
  kill,
  killAll,
  rssBytes,
  sleep,
  spawnPinned,
  waitForMessage,
} from "./lib/procs.mjs";
import { startRedis } from "./lib/redis-server.mjs";
import { FILE_HEADROOM, fileLimitRefusal } from "./lib/scenario.mjs";
import { percentile, sorted, summarize } from "./lib/stats.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const SERVER_CORE = 0;
const LOAD_CORE = 1;
/** One connection in SILENT_EVERY goes silent (5 %), in the probe process. */
const SILENT_EVERY = 20;
/** A worker is planned at most this share of its descriptor cap: round-robin is not load-aware. */
const PLAN_FILL = 0.8;

const DEFAULTS = {
  part: "steady,rolling",
  n: "1000,10000,50000,100000",
  topology: "cluster,ports",
  "rolling-n": "100000",
  windows: "default,0",
  interval: "15000",
  window: "30",
  cps: "1000",
  sampled: "1000",
  rate: "1",
};
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    ...Object.fromEntries(
      Object.entries(DEFAULTS).map(([k, v]) => [k, { type: "string", default: v }]),
    ),
    "compare-at": { type: "string" },
    workers: { type: "string" },
    // A lower per-process cap than the descriptor limit gives (to try the 503 path at small N).
    cap: { type: "string" },
    // Print what would run (processes, descriptors, the time budget) and exit.
    plan: { type: "boolean", default: false },
  },
});
const parts = args.part.split(",");
const ns = args.n.split(",").map(Number);
const topologies = args.topology.split(",");
const compareAt = Number(args["compare-at"] ?? Math.max(...ns));
const rollingN = Number(args["rolling-n"]);
const windowsToRun = args.windows.split(",");
const INTERVAL_MS = Number(args.interval);
const windowMs = Number(args.window) * 1000;
const cps = Number(args.cps);
const sampledTotal = Number(args.sampled);
const ratePerSampled = Number(args.rate);
const log = (line) => process.stderr.write(`${line}\n`);
const partial =
  Object.keys(DEFAULTS).some((k) => args[k] !== DEFAULTS[k]) || args.workers || args.cap;

// ---- descriptors: how many processes, and why ----

/**
 * One process may hold at most its hard open-file limit (here 20,000; raising
 * it needs CAP_SYS_RESOURCE). The cap per process is that limit less
 * FILE_HEADROOM, rounded down to a thousand; servers are planned at
 * PLAN_FILL of it (the primary hands connections round-robin, not by load,
 * and a rolling restart piles the moved sessions on the survivors), and each
 * worker refuses past the cap itself (`maxConnections`: 503, the client tries
 * again and the primary's next pick is another worker).
 */
function descriptorPlan() {
  const { soft, hard } = openFileLimits();
  const largest = Math.max(
    ...(parts.includes("steady") ? ns : []),
    ...(parts.includes("rolling") ? [rollingN] : []),
  );
  const refusal = fileLimitRefusal(largest);
  const limitCap = Math.floor((hard - FILE_HEADROOM) / 1000) * 1000;
  const cap = Math.min(limitCap, Number(args.cap ?? limitCap));
  const workers = Number(args.workers ?? Math.max(2, Math.ceil(largest / (PLAN_FILL * cap))));
  const text =
    `open-file limit ${soft}/${hard} (soft/hard); ` +
    (refusal
      ? `one process cannot hold ${largest.toLocaleString("en-US")} connections (${refusal}), so `
      : "") +
    `each process holds at most ${cap.toLocaleString("en-US")} connections: ${workers} worker processes ` +
    `(each refusing past ${cap.toLocaleString("en-US")} with 503; planned at ≤ ${Math.round(PLAN_FILL * 100)} % ` +
    `of it${args.workers ? ", --workers given" : ""}) and load processes of ≤ ${cap.toLocaleString("en-US")} clients each`;
  const peak = rollingPeak(rollingN, workers);
  const rollingText = parts.includes("rolling")
    ? `; in the rolling restart at ${largestText(rollingN)}, round-robin spreads each closing worker's ` +
      `clients evenly over all workers, which piles up to ~${peak.toLocaleString("en-US")} on one (simulated)` +
      (peak > cap ? ": past the cap a worker answers 503 and the client tries again (counted)" : "")
    : "";
  return { soft, hard, cap, workers, rollingPeak: peak, text: text + rollingText };
}
/**
 * The most connections one worker holds during a rolling restart of `workers`
 * under round-robin, if every closing worker's clients spread evenly over all
 * live workers (its replacement included): the last ones restarted pile up to
 * about e times their share.
 */
function rollingPeak(n, workers) {
  const load = Array(workers).fill(n / workers);
  let max = n / workers;
  for (let k = 0; k < workers; k++) {
    const moving = load[k];
    load[k] = 0;
    for (let j = 0; j < workers; j++) load[j] += moving / workers;
    max = Math.max(max, ...load);
  }
  return Math.round(max);
}
const largestText = (n) => `N = ${n.toLocaleString("en-US")}`;
const plan = descriptorPlan();

// ---- budget and cleanup ----

const connectMs = (n) => (n / cps) * 1000 * 3 + 60_000;
const steadyMs = (n) => connectMs(n) + INTERVAL_MS + windowMs + 3 * INTERVAL_MS + 60_000;
const rollingMs = () => connectMs(rollingN) + plan.workers * (10_000 + 60_000 + 30_000) + 60_000;
const deadlineMs =
  60_000 +
  (parts.includes("steady")
    ? ns.reduce((s, n) => s + steadyMs(n), 0) +
      (topologies.includes("ports") ? steadyMs(compareAt) : 0)
    : 0) +
  (parts.includes("rolling") ? windowsToRun.length * rollingMs() : 0);
let redis;
const cleanup = async () => {
  await killAll();
  await redis?.stop();
};
const deadline = setTimeout(() => {
  log(`scale: over its ${Math.round(deadlineMs / 1000)} s budget; killing everything`);
  void cleanup().then(() => process.exit(2));
}, deadlineMs);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => void cleanup().then(() => process.exit(130)));
}
// Whatever throws, the children and redis-server go too (a crash once left a redis-server behind).
process.on("uncaughtException", (error) => {
  log(`scale: ${error.stack ?? error}`);
  void cleanup().then(() => process.exit(1));
});

/** A child that died makes `send` emit "error" on it: report it; the waits on it time out, bounded. */
function guard(child) {
  child.on("error", (error) => log(`scale: ${child.benchName}: ${error.message}`));
  return child;
}

if (args.plan) {
  log(`scale: ${plan.text}`);
  log(
    `scale: parts ${parts.join(", ")}; steady N = ${ns.join(", ")} (cluster), ports at ${compareAt}; ` +
      `rolling N = ${rollingN}, windows ${windowsToRun.join(", ")}; ` +
      `time budget ${Math.round(deadlineMs / 60_000)} min (a bound, not an estimate)`,
  );
  process.exit(0);
}

// ---- helpers ----

let scenarioCount = 0;
/**
 * Connections per loopback source address. A bound connect picks its port
 * with bind(addr, 0), whose search for a free port grows with the ports the
 * address already uses: here 2,000 connects from one address holding 8,000
 * took 62 ms, from one holding 10,000 1.7 s, against 87 ms spread over 10
 * addresses. At 18,000 per address the load would spend its core binding.
 */
const PER_ADDRESS = 2000;
/**
 * Fresh loopback source addresses per scenario (the previous one's ports
 * linger in TIME_WAIT): 127.<10 + scenario>.<process>.<2 + j>, each load
 * process `ceil(count ÷ PER_ADDRESS)` of them, its clients spread over them.
 */
function sourceAddresses(shares) {
  const k = 10 + scenarioCount++;
  return shares.map((share, g) =>
    Array.from(
      { length: Math.ceil(share.count / PER_ADDRESS) },
      (_, j) => `127.${k}.${g}.${2 + j}`,
    ),
  );
}

let requestId = 0;
async function toWorkers(primary, message, answer, timeoutMs = 15_000) {
  const id = ++requestId;
  const reply = waitForMessage(primary, "all-reply", timeoutMs + 5000);
  primary.send({ type: "all", id, message, answer, timeoutMs });
  return (await reply).replies;
}

async function freePort() {
  const server = createNetServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const serverPids = (primary, workers) => [primary.pid, ...workers.map((w) => w.pid)];
const cpuOf = (pids) => sum(pids.map((pid) => cpuSeconds(pid)));
const rssOf = (pids) => sum(pids.map((pid) => rssBytes(pid)));
const loadavg = () => os.loadavg().map((v) => Math.round(v * 100) / 100);

async function startServers({ script, topology, workers, reconnect, keyPrefix }) {
  const primary = guard(
    spawnPinned({
      core: SERVER_CORE,
      script: here("./servers/scale-primary.mjs"),
      name: `primary (${topology})`,
      env: {
        BENCH_WORKER_SCRIPT: script,
        BENCH_WORKERS: String(workers),
        BENCH_TOPOLOGY: topology,
        // One shared port, fixed so that a restarted worker binds the same one.
        BENCH_PORT: String(topology === "cluster" ? await freePort() : 0),
        BENCH_INTERVAL_MS: String(INTERVAL_MS),
        BENCH_MAX_CONNECTIONS: String(plan.cap),
        BENCH_KEY_PREFIX: keyPrefix,
        BENCH_RECONNECT_MIN_MS: String(reconnect?.minMs ?? 1000),
        BENCH_RECONNECT_MAX_MS: String(reconnect?.maxMs ?? 10_000),
        REDIS_URL: redis.url,
      },
    }),
  );
  const ready = await Promise.race([
    waitForMessage(primary, "ready", 60_000),
    waitForMessage(primary, "failed", 60_000).then((m) => {
      throw new Error(`servers did not start: ${m.error}`);
    }),
  ]);
  const urls = [...new Set(ready.workers.map((w) => w.port))].map(
    (port) => `ws://127.0.0.1:${port}${ready.path}`,
  );
  return { primary, workers: ready.workers, urls };
}

/** Load shares: processes of at most `cap` clients, each from its own source address. */
function loadShares(n, cap, probeCount) {
  const rest = n - probeCount;
  const count = Math.max(1, Math.ceil(rest / cap));
  const shares = [];
  for (let g = 0; g < count; g++) {
    const first = Math.floor((rest * g) / count);
    const last = Math.floor((rest * (g + 1)) / count);
    shares.push({ name: `load-${g}`, count: last - first, probe: false });
  }
  if (probeCount > 0) shares.push({ name: "probe", count: probeCount, probe: true });
  return shares;
}

function spawnLoad(script, shares) {
  return shares.map((share) =>
    guard(
      spawnPinned({
        core: LOAD_CORE,
        script,
        name: share.name,
        // Diagnostics only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/x"): the load's own profile.
        nodeArgs: process.env.BENCH_LOAD_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
      }),
    ),
  );
}

const all = (children, type, timeoutMs) =>
  Promise.all(children.map((c) => waitForMessage(c, type, timeoutMs)));
function ask(children, message, type, timeoutMs = 15_000) {
  const replies = all(children, type, timeoutMs);
  for (const c of children) c.send(message);
  return replies;
}

/** Summed RSS of the server processes, and the workers' heapUsed + external, right after a full GC in each. */
async function afterGc(primary, pids) {
  const replies = await toWorkers(primary, { type: "gc" }, "gc-done");
  await sleep(300);
  return { rss: rssOf(pids), js: sum(replies.map((r) => r.reply.heapUsed + r.reply.external)) };
}

async function redisFigures() {
  const memory = await redis.info("memory");
  return {
    usedMemory: memory.used_memory,
    usedMemoryRss: memory.used_memory_rss,
    cpu: cpuSeconds(redis.pid),
  };
}

// ---- part 2: steady state and detection ----

async function steadyScenario({ script, n, topology }) {
  const started = performance.now();
  const loadavgBefore = loadavg();
  await redis.cli("flushall");
  const keyPrefix = `hl-scale-${n}-${topology}:`;
  const children = [];
  try {
    const redisBefore = await redisFigures();
    const servers = await startServers({ script, topology, workers: plan.workers, keyPrefix });
    children.push(servers.primary);
    const pids = serverPids(servers.primary, servers.workers);
    await sleep(2000);
    // Idle: RSS and the processes' own CPU with no client (timers, Redis leases, presence beats).
    const idleRss = rssOf(pids);
    const idleAfterGc = await afterGc(servers.primary, pids);
    const idlePrimaryRss = rssBytes(servers.primary.pid);
    const idleCpu0 = cpuOf(pids);
    const idle0 = performance.now();
    await sleep(5000);
    const idleCpuShare = (cpuOf(pids) - idleCpu0) / ((performance.now() - idle0) / 1000);

    const silentCount = Math.ceil(n / SILENT_EVERY);
    const shares = loadShares(n, plan.cap, silentCount);
    const addresses = sourceAddresses(shares);
    const generators = spawnLoad(here("./load/generator.mjs"), shares);
    children.push(...generators);
    await all(generators, "up", 20_000);
    const connectCpu0 = cpuOf(pids);
    const primaryCpu0 = cpuSeconds(servers.primary.pid);
    const connect0 = performance.now();
    let firstIndex = 0;
    generators.forEach((child, g) => {
      const share = shares[g];
      child.send({
        type: "start",
        config: {
          kind: "heartline",
          resume: true,
          url: servers.urls[0],
          // ports: the load spreads its clients over the workers' ports by index.
          ...(topology === "ports" ? { urls: servers.urls } : {}),
          count: share.count,
          firstIndex,
          connectPerSecond: (cps * share.count) / n,
          intervalMs: INTERVAL_MS,
          probe: share.probe,
          localAddresses: addresses[g],
        },
      });
      firstIndex += share.count;
    });
    const connected = await all(generators, "connected", connectMs(n));
    const connectSeconds = (performance.now() - connect0) / 1000;
    const connectCpu = cpuOf(pids) - connectCpu0;
    const connectPrimaryCpu = cpuSeconds(servers.primary.pid) - primaryCpu0;
    const ready = sum(connected.map((m) => m.ready));
    const failed = sum(connected.map((m) => m.failed));
    const failures = {};
    for (const m of connected)
      for (const [k, v] of Object.entries(m.failures)) failures[k] = (failures[k] ?? 0) + v;
    log(`  ${ready} connected, ${failed} failed in ${connectSeconds.toFixed(1)} s`);
    if (ready === 0) throw new Error(`no connection succeeded: ${JSON.stringify(failures)}`);
    await sleep(INTERVAL_MS + 2000);

    // Steady window.
    const redis0 = await redisFigures();
    const cpu0 = cpuOf(pids);
    const primary0 = cpuSeconds(servers.primary.pid);
    const perWorker0 = servers.workers.map((w) => cpuSeconds(w.pid));
    const t0 = performance.now();
    for (const g of generators) g.send({ type: "window-start" });
    const rssSamples = [];
    const primaryRssSamples = [];
    while (performance.now() < t0 + windowMs) {
      await sleep(Math.min(1000, t0 + windowMs - performance.now()));
      rssSamples.push(rssOf(pids));
      primaryRssSamples.push(rssBytes(servers.primary.pid));
    }
    const windows = await ask(generators, { type: "window-end" }, "window", 30_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuOf(pids) - cpu0;
    const primaryCpu = cpuSeconds(servers.primary.pid) - primary0;
    const perWorkerCpu = servers.workers.map((w, i) => cpuSeconds(w.pid) - perWorker0[i]);
    const redis1 = await redisFigures();
    const heartbeats = sum(windows.map((w) => w.pongs));
    const open = sum(windows.map((w) => w.open));
    const rss = percentile(sorted(rssSamples), 50);
    const statsBefore = await toWorkers(servers.primary, { type: "stats" }, "stats");
    const loadedAfterGc = await afterGc(servers.primary, pids);

    // Silence: the probe's clients send one last ping, then only read.
    const silence0 = performance.now();
    const net0 = readNetCounters();
    for (const g of generators) g.send({ type: "silence" });
    let silenceTimedOut = false;
    await all(generators, "silence-done", 3 * INTERVAL_MS + 5000).catch(() => {
      silenceTimedOut = true;
    });
    const silenceNet = netDelta(net0, readNetCounters());
    const reports = await ask(generators, { type: "report" }, "report");
    const statsAfter = await toWorkers(servers.primary, { type: "stats" }, "stats");
    const decomposition = decomposeDetections(
      reports.flatMap((r) => r.silentTimes ?? []),
      statsAfter.flatMap((s) => s.reply.stats.timedOut ?? []),
      2 * INTERVAL_MS,
    );
    log(`  silence: kernel ${describeNetDelta(silenceNet)}`);
    log(`  detection parts: ${describeDecomposition(decomposition)}`);
    const detections = reports.flatMap((r) => r.detections);
    const silentTotal = sum(reports.map((r) => r.silentTotal));
    const unexpected = {};
    for (const r of reports)
      for (const [k, v] of Object.entries(r.unexpectedCloses))
        unexpected[k] = (unexpected[k] ?? 0) + v;
    const dataset = { before: (await redisFigures()).usedMemory };
    await redis.cli("flushall");
    dataset.after = (await redisFigures()).usedMemory;
    const serverTimeouts = sum(statsAfter.map((s) => s.reply.stats.timeouts));
    const lateness = statsAfter.flatMap((s) => s.reply.stats.lateness);
    const heartbeatsPerSecond = heartbeats / seconds;
    return {
      n,
      topology,
      workers: servers.workers.length,
      connected: ready,
      failed,
      failures,
      connectSeconds,
      connect: {
        cpuMsPerConnection: (connectCpu * 1000) / Math.max(1, ready),
        primaryCpuMsPerConnection: (connectPrimaryCpu * 1000) / Math.max(1, ready),
      },
      openAtWindowEnd: open,
      perWorkerOpen: statsBefore.map((s) => s.reply.stats.open),
      window: { seconds, heartbeats },
      cpu: {
        share: cpu / seconds,
        primaryShare: primaryCpu / seconds,
        perWorkerShare: perWorkerCpu.map((c) => c / seconds),
        idleShare: idleCpuShare,
        msPer1kHeartbeats: heartbeats > 0 ? (cpu * 1000) / (heartbeats / 1000) : null,
        // What the heartbeats themselves cost: the idle processes' own CPU taken out.
        msPer1kHeartbeatsAboveIdle:
          heartbeats > 0
            ? (((cpu / seconds - idleCpuShare) * 1000) / heartbeatsPerSecond) * 1000
            : null,
      },
      memory: {
        idleRssBytes: idleRss,
        // The primary's own part: it accepts and hands over every connection in the cluster.
        primaryBytesPerConnection:
          (percentile(sorted(primaryRssSamples), 50) - idlePrimaryRss) / Math.max(1, open),
        rssBytes: rss,
        bytesPerConnection: (rss - idleRss) / Math.max(1, open),
        // Both readings right after a full GC in every worker: less noise from GC timing.
        bytesPerConnectionAfterGc: (loadedAfterGc.rss - idleAfterGc.rss) / Math.max(1, open),
        jsBytesPerConnectionAfterGc: (loadedAfterGc.js - idleAfterGc.js) / Math.max(1, open),
      },
      redis: {
        usedMemoryBefore: redisBefore.usedMemory,
        usedMemory: redis1.usedMemory,
        usedMemoryRss: redis1.usedMemoryRss,
        // What the keys hold: used_memory just before and after a FLUSHALL at the end (every
        // session is still there, the silent ones waiting for their window). Measured from before
        // the connect instead, it moved by ~250 B per session at N = 2,000 with what survives a
        // FLUSHALL (the first scenario of a run paid ~490 KB more, once).
        bytesPerSession: (dataset.before - dataset.after) / Math.max(1, ready),
        usedMemoryGrowthPerConnection:
          (redis1.usedMemory - redisBefore.usedMemory) / Math.max(1, ready),
        cpuShare: (redis1.cpu - redis0.cpu) / seconds,
      },
      rttMs: summarize(windows.flatMap((w) => w.rtts)),
      detectionErrorMs: {
        ...summarize(detections),
        silent: silentTotal,
        undetected: silentTotal - detections.length,
        timedOut: silenceTimedOut,
        probeEventLoopLagMaxMs: reports.at(-1).lagMaxMs,
        loadEventLoopLagMaxMs: Math.max(...reports.slice(0, -1).map((r) => r.lagMaxMs)),
        waitedSeconds: (performance.now() - silence0) / 1000,
      },
      serverLatenessMs: summarize(lateness),
      // Each silent client's error split into uplink (its last ping's way in), judged (the
      // server's lateness) and downlink (the close frame's way back): bench/lib/decompose.mjs.
      detectionParts: decomposition,
      // The kernel over the silence phase: loopback backlog drops and TCP retransmissions.
      silenceNet,
      // Healthy clients closed: every close of a client that was not silent (4000 = timed out).
      healthyClosed: unexpected,
      healthyTimedOut: (unexpected["4000"] ?? 0) + Math.max(0, serverTimeouts - silentTotal),
      serverTimeouts,
      serverStats: statsAfter.map((s) => ({
        index: s.index,
        ...s.reply.stats,
        lateness: undefined,
        timedOut: undefined,
      })),
      loadProcesses: shares.length,
      sourceAddresses: addresses,
      loadavg: { before: loadavgBefore, after: loadavg() },
      elapsedSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Promise.all(children.map((c) => kill(c, 0)));
  }
}

// ---- part 3: rolling restart ----

function peakRate(times, binMs) {
  if (times.length === 0) return 0;
  const bins = new Map();
  for (const t of times) {
    const b = Math.floor(t / binMs);
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  return (Math.max(...bins.values()) * 1000) / binMs;
}

/** Reconnect attempts per second, in 1 s bins from the first: the herd's shape. */
function histogram(times, binMs = 1000) {
  if (times.length === 0) return [];
  // A loop, not Math.min(...times): at 100,000 reconnects a spread overflows the stack.
  let t0 = Number.POSITIVE_INFINITY;
  for (const t of times) if (t < t0) t0 = t;
  const bins = [];
  for (const t of times) {
    const b = Math.floor((t - t0) / binMs);
    bins[b] = (bins[b] ?? 0) + 1;
  }
  return Array.from(bins, (v) => v ?? 0);
}

async function rollingScenario({ script, n, reconnectName }) {
  const started = performance.now();
  const loadavgBefore = loadavg();
  const reconnect = reconnectName === "0" ? { minMs: 0, maxMs: 0 } : { minMs: 1000, maxMs: 10_000 };
  await redis.cli("flushall");
  const children = [];
  try {
    const servers = await startServers({
      script,
      topology: "cluster",
      workers: plan.workers,
      reconnect,
      keyPrefix: `hl-roll-${reconnectName}:`,
    });
    children.push(servers.primary);
    const shares = loadShares(n, plan.cap, 0);
    const addresses = sourceAddresses(shares);
    const loads = spawnLoad(here("./load/rolling-clients.mjs"), shares);
    children.push(...loads);
    await all(loads, "up", 20_000);
    let firstIndex = 0;
    loads.forEach((child, g) => {
      const share = shares[g];
      child.send({
        type: "start",
        config: {
          url: servers.urls[0],
          count: share.count,
          firstIndex,
          sampled: Math.round((sampledTotal * share.count) / n),
          messagesPerSecond: ratePerSampled,
          connectPerSecond: (cps * share.count) / n,
          intervalMs: INTERVAL_MS,
          localAddresses: addresses[g],
        },
      });
      firstIndex += share.count;
    });
    const connected = await all(loads, "connected", connectMs(n));
    const ready = sum(connected.map((m) => m.ready));
    log(`  ${ready} connected (${JSON.stringify(connected.map((m) => m.failures))})`);
    await sleep(2000);
    for (const l of loads) l.send({ type: "messages", on: true });
    await sleep(3000);
    const redisCpu0 = cpuSeconds(redis.pid);
    const restarts = [];
    const roll0 = performance.now();
    let workers = servers.workers;
    for (const { index } of servers.workers) {
      const before = await toWorkers(servers.primary, { type: "stats" }, "stats");
      const t0 = performance.now();
      const reply = waitForMessage(servers.primary, "restarted", 120_000);
      servers.primary.send({ type: "restart", index });
      const restarted = await reply;
      // Until every client is open again (or has failed to resume), bounded.
      const backBudget = reconnect.maxMs + 30_000;
      let status;
      const closeAt = t0 + restarted.forkMs;
      while (true) {
        status = await ask(loads, { type: "status" }, "status");
        const down = sum(status.map((s) => s.down));
        if (down === 0 || performance.now() - closeAt > backBudget) break;
        await sleep(100);
      }
      const backMs = performance.now() - closeAt;
      const entry = {
        index,
        oldPid: restarted.oldPid,
        newPid: restarted.newPid,
        forkMs: restarted.forkMs,
        closeMs: restarted.closeMs,
        sessionsHeld: restarted.closed.sessionsHeld,
        closedCounts: restarted.closed.counts,
        perWorkerOpenBefore: before.map((s) => s.reply.stats.open),
        backMs,
        downAtEnd: sum(status.map((s) => s.down)),
        notResumedSoFar: sum(status.map((s) => s.notResumed)),
      };
      restarts.push(entry);
      log(
        `  worker ${index} restarted: held ${entry.sessionsHeld}, close ${entry.closeMs.toFixed(0)} ms, ` +
          `all back after ${(backMs / 1000).toFixed(1)} s (${entry.downAtEnd} still down, ` +
          `${entry.notResumedSoFar} not resumed)`,
      );
      workers = await (async () => {
        const r = waitForMessage(servers.primary, "workers", 10_000);
        servers.primary.send({ type: "workers" });
        return (await r).workers;
      })();
    }
    const rollSeconds = (performance.now() - roll0) / 1000;
    const redisCpu = cpuSeconds(redis.pid) - redisCpu0;
    for (const l of loads) l.send({ type: "messages", on: false });
    // Every echo in flight arrives (a round trip, and the store's batch) before the count.
    await sleep(3000);
    const reports = await ask(loads, { type: "report" }, "report", 30_000);
    const stats = await toWorkers(servers.primary, { type: "stats" }, "stats");
    const merge = (key) => {
      const out = {};
      for (const r of reports)
        for (const [k, v] of Object.entries(r[key])) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const attempts = reports.flatMap((r) => r.attemptTimes);
    const resumesAt = reports.flatMap((r) => r.resumeTimes);
    const sampleKeys = [
      "clients",
      "sent",
      "echoed",
      "duplicates",
      "gaps",
      "missing",
      "cutByFailedResume",
      "unackedByServer",
      "replayed",
      "droppedReplays",
    ];
    const sampleTotals = Object.fromEntries(
      sampleKeys.map((k) => [k, sum(reports.map((r) => r.sample[k]))]),
    );
    // What the closing workers and the survivors reported about sessions.
    const closedCounts = restarts.map((r) => r.closedCounts);
    const sessionEnds = {};
    for (const c of [...closedCounts, ...stats.map((s) => s.reply.stats)])
      for (const [k, v] of Object.entries(c.sessionEnds))
        sessionEnds[k] = (sessionEnds[k] ?? 0) + v;
    return {
      n,
      reconnectWindow: reconnect,
      workers: plan.workers,
      connected: ready,
      restarts,
      rollSeconds,
      open: sum(reports.map((r) => r.open)),
      notResumed: merge("notResumed"),
      notResumedTotal: sum(Object.values(merge("notResumed"))),
      stillDown: sum(reports.map((r) => r.down)),
      goodbyes: sum(reports.map((r) => r.goodbyes)),
      resumes: sum(reports.map((r) => r.resumes)),
      unexpectedCloses: merge("unexpectedCloses"),
      failures: merge("failures"),
      reconnectAttempts: attempts.length,
      peakAttemptsPerSecond: { bin1s: peakRate(attempts, 1000), bin100ms: peakRate(attempts, 100) },
      peakResumesPerSecond: {
        bin1s: peakRate(resumesAt, 1000),
        bin100ms: peakRate(resumesAt, 100),
      },
      attemptsHistogram1s: histogram(attempts),
      downtimeMs: summarize(reports.flatMap((r) => r.downtimes)),
      sample: sampleTotals,
      sessionEnds,
      movedUndelivered:
        sum(closedCounts.map((c) => c.movedUndelivered)) +
        sum(stats.map((s) => s.reply.stats.movedUndelivered)),
      adopted: sum(stats.map((s) => s.reply.stats.adopted)),
      rejected: (() => {
        const out = {};
        for (const c of [...closedCounts, ...stats.map((s) => s.reply.stats)])
          for (const [k, v] of Object.entries(c.rejected)) out[k] = (out[k] ?? 0) + v;
        return out;
      })(),
      storeErrors: stats.map((s) => s.reply.stats.storeErrors),
      redisCpuShareDuringRoll: redisCpu / rollSeconds,
      finalPerWorkerOpen: stats.map((s) => s.reply.stats.open),
      loadLagMaxMs: Math.max(...reports.map((r) => r.lagMaxMs)),
      loadavg: { before: loadavgBefore, after: loadavg() },
      elapsedSeconds: (performance.now() - started) / 1000,
      workersAtEnd: workers,
    };
  } finally {
    await Promise.all(children.map((c) => kill(c, 0)));
  }
}

// ---- report ----

const fmt = (v, digits = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));
const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;
const int = (v) => Math.round(v).toLocaleString("en-US");

function steadyMarkdown(report) {
  const lines = [
    `# Heartline at up to ${int(Math.max(...report.ns))} connections, several processes (bench/scale.mjs)`,
    "",
    `${report.date}, commit ${report.machine.commit}${report.machine.dirty ? " (dirty)" : ""}, ` +
      `${report.machine.cores} cores (${report.machine.cpuModel}), Node ${report.machine.node}, ` +
      `X = ${report.intervalMs} ms (timeout 2X), ${report.windowSeconds} s window, ${report.cps} connections/s.` +
      (process.env.BENCH_SERVER_NODE_ARGS
        ? ` Workers under \`${process.env.BENCH_SERVER_NODE_ARGS}\` (BENCH_SERVER_NODE_ARGS).`
        : ""),
    "",
    `Descriptors: ${report.plan.text}.`,
    "",
    "Sessions and presence in Redis (one redis-server, loopback, no persistence). " +
      "Servers on core 0 (primary + workers), load, probe and Redis on core 1. " +
      "5 % of the clients go silent after the window.",
    "",
    "| N | topology | workers | held | CPU % (all server processes) | of it primary | CPU ms / 1k heartbeats | above idle | RSS / conn (all; of it primary) | RSS / conn after GC | JS heap + external / conn after GC | Redis bytes / session | Redis CPU % | detection p50 / p99 / max (ms) | healthy timed out | connect CPU ms / conn (primary) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of report.results) {
    if (r.error) {
      lines.push(`| ${int(r.n)} | ${r.topology} | | failed: ${r.error} | | | | | | | | | | | | |`);
      continue;
    }
    const d = r.detectionErrorMs;
    lines.push(
      `| ${int(r.n)} | ${r.topology} | ${r.workers} | ${int(r.openAtWindowEnd)} | ${fmt(r.cpu.share * 100)} | ${fmt(r.cpu.primaryShare * 100, 2)} | ` +
        `${fmt(r.cpu.msPer1kHeartbeats, 1)} | ${fmt(r.cpu.msPer1kHeartbeatsAboveIdle, 1)} | ${kib(r.memory.bytesPerConnection)} (${kib(r.memory.primaryBytesPerConnection)}) | ` +
        `${kib(r.memory.bytesPerConnectionAfterGc)} | ${kib(r.memory.jsBytesPerConnectionAfterGc)} | ` +
        `${int(r.redis.bytesPerSession)} | ${fmt(r.redis.cpuShare * 100)} | ${fmt(d.p50)} / ${fmt(d.p99)} / ${fmt(d.max)}` +
        `${d.undetected ? ` (${d.undetected} undetected)` : ""} | ${r.healthyTimedOut} | ` +
        `${fmt(r.connect.cpuMsPerConnection, 3)} (${fmt(r.connect.primaryCpuMsPerConnection, 3)}) |`,
    );
  }
  lines.push(
    "",
    "- **CPU ms / 1k heartbeats**: CPU of every server process (primary and workers) over the window ÷ heartbeats answered; " +
      "**above idle** takes out what the same processes burnt with no client (their timers, the Redis leases and presence beats), " +
      "which dominates at small N and X = 15 s.",
    "- **RSS / conn**: (median summed RSS over the window − summed idle RSS) ÷ connections held; **after GC** the same from two readings right after `gc()` in every worker (less GC-timing noise); **JS heap + external** the workers' own `heapUsed + external`, loaded − idle, after GC.",
    "- **Redis bytes / session**: `used_memory` just before − just after a FLUSHALL at the scenario's end, ÷ connections: what the session and presence records hold (every session is still there, the silent ones waiting for their window).",
    "- **Detection**: per silent client, close frame arrived − last frame sent − 2X, on the probe's clock. " +
      "**Detection split** (below): the same error per client, joined to the worker's report on the session id, as uplink (last ping sent → the worker's `lastHeardAt`) + judged (the worker's lateness past `lastHeardAt + 2X`) + downlink (the close frame's way back), `lib/decompose.mjs`; **kernel**: loopback backlog drops and TCP retransmissions over the silence phase.",
    "- **Healthy timed out**: clients that were not silent and were closed 4000, plus server timeouts beyond the silent count.",
    "- **Connect CPU / conn**: all server processes over the connect phase ÷ connections; in brackets the primary's part (its round-robin hand-off).",
    "",
  );
  for (const r of report.results.filter((x) => !x.error)) {
    lines.push(
      `- N = ${int(r.n)} ${r.topology}: ${r.connected} connected, ${r.failed} failed (${JSON.stringify(r.failures)}), ` +
        `per worker at the window ${JSON.stringify(r.perWorkerOpen)}; server lateness p99 ${fmt(r.serverLatenessMs.p99)} ms; ` +
        `healthy closes ${JSON.stringify(r.healthyClosed)}; probe loop max ${fmt(r.detectionErrorMs.probeEventLoopLagMaxMs)} ms; ` +
        (r.detectionParts ? `detection split: ${describeDecomposition(r.detectionParts)}; ` : "") +
        (r.silenceNet ? `silence, kernel: ${describeNetDelta(r.silenceNet)}; ` : "") +
        `loadavg ${r.loadavg.before[0]} → ${r.loadavg.after[0]}`,
    );
  }
  lines.push("", ...report.notes.map((n) => `- ${n}`));
  return `${lines.join("\n")}\n`;
}

function rollingMarkdown(report) {
  const lines = [
    `# Rolling restart of every server process at ${int(report.n)} connections (bench/scale.mjs)`,
    "",
    `${report.date}, commit ${report.machine.commit}${report.machine.dirty ? " (dirty)" : ""}, ` +
      `${report.machine.cores} cores, Node ${report.machine.node}, X = ${report.intervalMs} ms.`,
    "",
    `Descriptors: ${report.plan.text}.`,
    "",
    `node:cluster, one port; each worker in turn: its replacement forked and listening, then the old one's ` +
      `\`close()\` (out of the round-robin, goodbye, sessions handed over through the Redis store). ` +
      `${int(report.sampled)} sampled clients send ${report.rate} numbered message/s each, echoed, checked by number both ways.`,
    "",
    "| goodbye window | sessions not resumed | still down | resumes | time until all back per restart (s): max / median | peak reconnects / s (1 s bins; 100 ms bins) | downtime p50 / p99 / max (ms) | sampled sent / echoed | lost | duplicated | moved undelivered | unexpected closes |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of report.results) {
    if (r.error) {
      lines.push(`| ${r.reconnectName} | failed: ${r.error} | | | | | | | | | | |`);
      continue;
    }
    const backs = r.restarts.map((x) => x.backMs / 1000);
    lines.push(
      `| ${r.reconnectWindow.minMs}–${r.reconnectWindow.maxMs} ms | ${r.notResumedTotal} | ${r.stillDown} | ${int(r.resumes)} | ` +
        `${fmt(Math.max(...backs))} / ${fmt(percentile(sorted(backs), 50))} | ${int(r.peakAttemptsPerSecond.bin1s)}; ${int(r.peakAttemptsPerSecond.bin100ms)} | ` +
        `${fmt(r.downtimeMs.p50, 0)} / ${fmt(r.downtimeMs.p99, 0)} / ${fmt(r.downtimeMs.max, 0)} | ` +
        `${int(r.sample.sent)} / ${int(r.sample.echoed)} | ${r.sample.missing + r.sample.gaps} | ${r.sample.duplicates} | ${r.movedUndelivered} | ${JSON.stringify(r.unexpectedCloses)} |`,
    );
  }
  lines.push(
    "",
    "- **Not resumed**: reconnects whose welcome had no `resumed` (`resumeFailed` reason counted); target 0.",
    "- **Time until all back**: from the old worker's `close()` to the moment every client of the load is open again.",
    "- **Peak reconnects / s**: reconnect attempts (upgrades started) in the busiest 1 s and 100 ms bins.",
    "- **Lost**: sampled messages never echoed (either direction) plus gaps in the echo order; **duplicated**: echoes of a number already seen.",
    "- **Moved undelivered**: what a worker reported in `sessionMoved.undelivered` (accepted but never recorded).",
    "",
  );
  for (const r of report.results.filter((x) => !x.error)) {
    lines.push(
      `- window ${r.reconnectWindow.minMs}–${r.reconnectWindow.maxMs} ms: restart ${r.rollSeconds.toFixed(0)} s in all; ` +
        `per restart (held, back s): ${r.restarts.map((x) => `${x.sessionsHeld}/${(x.backMs / 1000).toFixed(1)}`).join(", ")}; ` +
        `reconnect attempts per second from the first: [${r.attemptsHistogram1s.join(", ")}]; ` +
        `refusals ${JSON.stringify(r.rejected)}; failures ${JSON.stringify(r.failures)}; session ends ${JSON.stringify(r.sessionEnds)}; ` +
        `adopted ${r.adopted}; per worker at the end ${JSON.stringify(r.finalPerWorkerOpen)}; ` +
        `Redis CPU ${fmt(r.redisCpuShareDuringRoll * 100)} % during the roll; load loop max ${fmt(r.loadLagMaxMs, 0)} ms; ` +
        `loadavg ${r.loadavg.before[0]} → ${r.loadavg.after[0]}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

// ---- main ----

async function main() {
  const machine = describeMachine();
  log(`scale: ${machine.cores} cores, Node ${machine.node}; ${plan.text}`);
  const script = await buildHeartline("heartline-scale", { external: ["ioredis"] });
  redis = await startRedis({ core: LOAD_CORE });
  log(`scale: redis-server pid ${redis.pid} on ${redis.url}`);
  const date = new Date().toISOString().slice(0, 10);
  const dir = here("./results");
  mkdirSync(dir, { recursive: true });
  const suffix = partial ? "-partial" : "";
  const common = { date, machine, plan, intervalMs: INTERVAL_MS, cps };

  if (parts.includes("steady")) {
    const results = [];
    const runs = ns.map((n) => ({ n, topology: "cluster" }));
    if (topologies.includes("ports")) runs.push({ n: compareAt, topology: "ports" });
    for (const { n, topology } of runs.filter((r) => topologies.includes(r.topology))) {
      log(`scale: steady, N = ${int(n)}, ${topology}`);
      try {
        const r = await steadyScenario({ script, n, topology });
        log(
          `  CPU ${fmt(r.cpu.share * 100)} % (primary ${fmt(r.cpu.primaryShare * 100, 2)} %), ` +
            `${fmt(r.cpu.msPer1kHeartbeats)} ms/1k heartbeats (${fmt(r.cpu.msPer1kHeartbeatsAboveIdle)} above idle), ` +
            `RSS/conn ${kib(r.memory.bytesPerConnection)}, Redis ${int(r.redis.bytesPerSession)} B/session, ` +
            `detection p99 ${fmt(r.detectionErrorMs.p99)} ms, healthy timed out ${r.healthyTimedOut}`,
        );
        results.push(r);
      } catch (error) {
        log(`  failed: ${error.stack ?? error}`);
        results.push({ n, topology, error: String(error.message ?? error) });
      }
      await sleep(3000);
    }
    const report = { ...common, windowSeconds: windowMs / 1000, ns, results, notes: [] };
    const name = `${date}-${machine.commit}-${int(Math.max(...ns))
      .replace(/,/g, "")
      .replace(/000$/, "k")}${suffix}`;
    writeFileSync(`${dir}/${name}.md`, steadyMarkdown(report));
    writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${steadyMarkdown(report)}`);
    log(`scale: wrote bench/results/${name}.md and .json`);
  }

  if (parts.includes("rolling")) {
    const results = [];
    for (const reconnectName of windowsToRun) {
      log(`scale: rolling restart at N = ${int(rollingN)}, goodbye window ${reconnectName}`);
      try {
        results.push({
          reconnectName,
          ...(await rollingScenario({ script, n: rollingN, reconnectName })),
        });
      } catch (error) {
        log(`  failed: ${error.stack ?? error}`);
        results.push({ reconnectName, error: String(error.message ?? error) });
      }
      await sleep(3000);
    }
    const report = { ...common, n: rollingN, sampled: sampledTotal, rate: ratePerSampled, results };
    const name = `${date}-${machine.commit}-rolling-restart${suffix}`;
    writeFileSync(`${dir}/${name}.md`, rollingMarkdown(report));
    writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${rollingMarkdown(report)}`);
    log(`scale: wrote bench/results/${name}.md and .json`);
  }
}

main()
  .catch((error) => {
    log(`scale: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await cleanup();
  });

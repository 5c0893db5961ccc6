// One measurement: one server under test at N connections, from spawn to kill.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { decomposeDetections } from "./decompose.mjs";
import { openFileLimits } from "./machine.mjs";
import { netDelta, readNetCounters } from "./net-drops.mjs";
import {
  cpuSeconds,
  kill,
  rssBytes,
  serverNodeArgs,
  sleep,
  spawnPinned,
  waitForMessage,
} from "./procs.mjs";
import { median, summarize } from "./stats.mjs";
import { explainStalls, startTimeline } from "./timeline.mjs";

const SERVER_CORE = 0;
const LOAD_CORE = 1;
/** Default connections per load generator process (`timing.perGenerator` overrides it). */
const PER_GENERATOR = 5000;
/** One connection in SILENT_EVERY goes silent (5%): those are the probe's. */
const SILENT_EVERY = 20;

const generatorScript = fileURLToPath(new URL("../load/generator.mjs", import.meta.url));

/**
 * When this process's soft open-file limit is below `needed`, runs the child
 * under `prlimit` with a higher one (root may raise the hard limit too).
 */
function withFileLimit(needed) {
  const { soft, hard } = openFileLimits();
  if (soft >= needed) return [];
  const limit = Math.max(needed, soft);
  return ["prlimit", `--nofile=${limit}:${Math.max(limit, hard)}`, "--"];
}

/** Connections a server process needs open files for, beyond the sockets. */
export const FILE_HEADROOM = 1024;

/**
 * Whether a child process may open `n` connections here: null if so, else
 * why not (prlimit's own words). Raising the hard limit needs
 * CAP_SYS_RESOURCE, which a sandbox may withhold even from root.
 */
export function fileLimitRefusal(n) {
  const prefix = withFileLimit(n + FILE_HEADROOM);
  if (prefix.length === 0) return null;
  const probe = spawnSync(prefix[0], [...prefix.slice(1), "true"], { encoding: "utf8" });
  if (probe.status === 0) return null;
  const { soft, hard } = openFileLimits();
  return (
    `${n.toLocaleString("en-US")} connections need ${(n + FILE_HEADROOM).toLocaleString("en-US")} ` +
    `open files in the server process; this machine's limit is ${soft}/${hard} (soft/hard) and ` +
    `\`${prefix.slice(0, -1).join(" ")}\` was refused: ${(probe.stderr || "").trim() || `exit ${probe.status}`}`
  );
}

/** Server stats as JSON-worthy figures: a server's own lateness samples become p50/p99/max. */
function summarizeStats(stats) {
  if (!Array.isArray(stats.lateness)) return stats;
  return { ...stats, lateness: summarize(stats.lateness), timedOut: undefined };
}

/**
 * The server's memory right after a full GC: RSS (a moment later, so V8 can
 * give pages back) and V8's own heapUsed + external, which malloc
 * fragmentation and GC timing do not blur.
 */
async function rssAfterGc(serverProc) {
  const done = waitForMessage(serverProc, "gc-done", 10_000);
  serverProc.send({ type: "gc" });
  const { heapUsed, external, spaces } = await done;
  await sleep(300);
  return { rss: rssBytes(serverProc.pid), heapUsed, external, spaces };
}

/** The server's GC tally since its last reset (see servers/common.mjs). */
async function gcTally(serverProc) {
  const reply = waitForMessage(serverProc, "gc-tally", 10_000);
  serverProc.send({ type: "gc-tally" });
  return (await reply).tally;
}

const loadavg = () => os.loadavg().map((v) => Math.round(v * 100) / 100);

function send(children, message) {
  for (const child of children) child.send(message);
}

function allMessages(children, type, timeoutMs) {
  return Promise.all(children.map((child) => waitForMessage(child, type, timeoutMs)));
}

/**
 * Runs `server` (a { name, kind, script } entry) at `n` connections with the
 * phase lengths in `timing`, and returns its raw figures. Every child it
 * starts is killed before it returns or throws.
 */
/**
 * The phases of a scenario at X = `intervalMs` as the paired benches run
 * them: settle, connect at `connectPerSecond`, X·3 of warm-up, a steady
 * window of `windowSeconds`, the silence phase's grace, a cooldown.
 */
export function scenarioTiming({ connectPerSecond, windowSeconds, intervalMs }) {
  return {
    settleMs: 1500,
    connectPerSecond,
    warmupMs: 3 * intervalMs,
    windowMs: windowSeconds * 1000,
    silenceGraceMs: 5000,
    cooldownMs: 3000,
  };
}

export async function runScenario({
  server,
  n,
  intervalMs,
  timing,
  log,
  profileDir,
  heapProfileDir,
  /** Also profile the silence phase (the detection tail), in its own file. */
  profileSilence = false,
  sourceAddresses = ["127.0.0.1"],
}) {
  const children = [];
  const started = performance.now();
  const loadavgBefore = loadavg();
  try {
    const prefix = withFileLimit(n + FILE_HEADROOM);
    const serverProc = spawnPinned({
      core: SERVER_CORE,
      script: server.script,
      env: { BENCH_INTERVAL_MS: String(intervalMs), ...server.env },
      // BENCH_SERVER_NODE_ARGS: V8/Node flags for the server under test (e.g. GC experiments).
      nodeArgs: ["--expose-gc", ...(server.nodeArgs ?? []), ...serverNodeArgs()],
      // A server entry may run on another runtime (bench/runtimes.mjs: Bun, Deno).
      runtime: server.runtime,
      prefix,
      name: server.name,
    });
    children.push(serverProc);
    const ready = await waitForMessage(serverProc, "ready", 20_000);
    await sleep(timing.settleMs);
    const idleRss = rssBytes(serverProc.pid);
    const idleAfterGc = await rssAfterGc(serverProc);
    const url =
      server.kind === "socketio"
        ? `http://127.0.0.1:${ready.port}`
        : `ws://127.0.0.1:${ready.port}${ready.path}`;

    // The silent clients live in a process of their own, the probe, which
    // carries 5% of the load: the busy generators would blur its timestamps.
    const silentCount = Math.ceil(n / SILENT_EVERY);
    const perGenerator = timing.perGenerator ?? PER_GENERATOR;
    const generatorCount = Math.ceil((n - silentCount) / perGenerator);
    const shares = [];
    for (let g = 0; g < generatorCount; g++) {
      const first = Math.floor(((n - silentCount) * g) / generatorCount);
      const last = Math.floor(((n - silentCount) * (g + 1)) / generatorCount);
      shares.push({ name: `load-${g}`, count: last - first, probe: false });
    }
    shares.push({ name: "probe", count: silentCount, probe: true });
    const generators = [];
    for (const share of shares) {
      const child = spawnPinned({
        core: LOAD_CORE,
        script: generatorScript,
        prefix: withFileLimit(share.count + FILE_HEADROOM),
        name: share.name,
      });
      children.push(child);
      generators.push(child);
    }
    await allMessages(generators, "up", 20_000);
    const loadGenerators = generators.slice(0, generatorCount);

    const connectStart = performance.now();
    let firstIndex = 0;
    generators.forEach((child, g) => {
      const share = shares[g];
      child.send({
        type: "start",
        config: {
          kind: server.kind,
          url,
          count: share.count,
          firstIndex,
          // Each process connects at its share of the total rate.
          connectPerSecond: (timing.connectPerSecond * share.count) / n,
          intervalMs,
          probe: share.probe,
          localAddress: sourceAddresses[g % sourceAddresses.length],
          // A server entry's own load settings (resume-cost.mjs: `resume`, `messagesPerSecond`).
          ...server.load,
        },
      });
      firstIndex += share.count;
    });
    // The clients' handshake timeout (30 s) bounds each connect; this bounds the phase. On a busy
    // machine the load's own pacing runs late too (a starved 20 ms pacer), hence 3× the nominal time.
    const connectBudget = 3 * (n / timing.connectPerSecond) * 1000 + 60_000;
    const connected = await allMessages(generators, "connected", connectBudget).catch(
      async (error) => {
        // Say where each process got to before giving up on the scenario.
        const statuses = allMessages(generators, "status", 5000);
        send(generators, { type: "status" });
        const where = (await statuses.catch(() => [])).map(
          (s, g) =>
            `${shares[g].name} ${s.ready}+${s.failed} of ${s.count} (${s.started} started; ${JSON.stringify(s.failures)})`,
        );
        throw new Error(`${error.message}; ${where.join(", ")}`);
      },
    );
    const ready_ = connected.reduce((sum, m) => sum + m.ready, 0);
    const failed = connected.reduce((sum, m) => sum + m.failed, 0);
    const failures = {};
    for (const m of connected) {
      for (const [k, v] of Object.entries(m.failures)) failures[k] = (failures[k] ?? 0) + v;
    }
    const connectSeconds = (performance.now() - connectStart) / 1000;
    log(`  ${ready_} connected, ${failed} failed in ${connectSeconds.toFixed(1)} s`);
    if (ready_ === 0) throw new Error(`no connection succeeded: ${JSON.stringify(failures)}`);

    // Let every client's ping phase start and the server settle into its rhythm.
    await sleep(timing.warmupMs);

    // Steady window: server CPU and RSS from /proc, RTTs and heartbeats from the load.
    const loadPids = loadGenerators.map((child) => child.pid);
    const cpu0 = cpuSeconds(serverProc.pid);
    const loadCpu0 = loadPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const t0 = performance.now();
    // /proc beside the server's own stall records, from here to the end of the silence phase.
    const timeline = startTimeline(serverProc.pid);
    send(generators, { type: "window-start" });
    serverProc.send({ type: "gc-tally-reset" });
    if (profileDir) serverProc.send({ type: "profile-start" });
    if (heapProfileDir) serverProc.send({ type: "heap-sampling-start" });
    const rssSamples = [];
    const windowEnd = t0 + timing.windowMs;
    while (performance.now() < windowEnd) {
      await sleep(Math.min(1000, windowEnd - performance.now()));
      rssSamples.push(rssBytes(serverProc.pid));
    }
    const windowReplies = allMessages(generators, "window", 30_000);
    send(generators, { type: "window-end" });
    const cpu1 = cpuSeconds(serverProc.pid);
    const loadCpu1 = loadPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const t1 = performance.now();
    const gcSteady = await gcTally(serverProc);
    const windows = await windowReplies;
    let heapProfile = null;
    if (heapProfileDir) {
      mkdirSync(heapProfileDir, { recursive: true });
      const written = waitForMessage(serverProc, "heap-sampling-written", 30_000);
      serverProc.send({
        type: "heap-sampling-stop",
        path: `${heapProfileDir}/${server.name}-${n}-${Date.now()}.heapprofile`,
      });
      heapProfile = (await written).path;
    }
    let profile = null;
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      const written = waitForMessage(serverProc, "profile-written", 30_000);
      serverProc.send({
        type: "profile-stop",
        path: `${profileDir}/${server.name}-${n}-${Date.now()}.cpuprofile`,
      });
      profile = (await written).path;
    }
    const seconds = (t1 - t0) / 1000;
    const heartbeats = windows.reduce((sum, w) => sum + w.pongs, 0);
    const echoes = windows.reduce((sum, w) => sum + (w.echoes ?? 0), 0);
    const rtts = windows.flatMap((w) => w.rtts);
    const openAtWindowEnd = windows.reduce((sum, w) => sum + w.open, 0);
    const rss = median(rssSamples);
    // Memory is per connection the server still holds (a server may have dropped some).
    const held = openAtWindowEnd > 0 ? openAtWindowEnd : ready_;
    const loadedAfterGc = await rssAfterGc(serverProc);
    const statsReply = waitForMessage(serverProc, "stats", 10_000);
    serverProc.send({ type: "stats" });
    const statsBefore = (await statsReply).stats;

    // Detection: 5% of the clients send one last ping and then only read.
    const silenceBudget = 3 * intervalMs + timing.silenceGraceMs;
    const silenceStart = performance.now();
    serverProc.send({ type: "gc-tally-reset" });
    if (profileDir && profileSilence) serverProc.send({ type: "profile-start" });
    const net0 = readNetCounters();
    send(generators, { type: "silence" });
    let silenceTimedOut = false;
    await allMessages(generators, "silence-done", silenceBudget).catch(() => {
      silenceTimedOut = true;
    });
    const silenceEnd = performance.now();
    const silenceNet = netDelta(net0, readNetCounters());
    const silenceSeconds = (silenceEnd - silenceStart) / 1000;
    const gcSilence = await gcTally(serverProc);
    const samples = timeline.stop();
    let silenceProfile = null;
    if (profileDir && profileSilence) {
      const written = waitForMessage(serverProc, "profile-written", 30_000);
      serverProc.send({
        type: "profile-stop",
        path: `${profileDir}/${server.name}-${n}-silence-${Date.now()}.cpuprofile`,
      });
      silenceProfile = (await written).path;
    }
    const epoch = (t) => performance.timeOrigin + t;
    const tail = {
      steady: explainStalls(samples, gcSteady.stalls ?? [], { from: epoch(t0), to: epoch(t1) }),
      silence: explainStalls(samples, gcSilence.stalls ?? [], {
        from: epoch(silenceStart),
        to: epoch(silenceEnd),
      }),
    };
    // The raw stall lists are in `tail`; the GC tallies keep their figures only.
    delete gcSteady.stalls;
    delete gcSilence.stalls;
    const reports = await (() => {
      const replies = allMessages(generators, "report", 10_000);
      send(generators, { type: "report" });
      return replies;
    })();
    const statsReply2 = waitForMessage(serverProc, "stats", 10_000);
    serverProc.send({ type: "stats" });
    const statsAfter = (await statsReply2).stats;
    const detections = reports.flatMap((r) => r.detections);
    // Heartline's servers report each timeout with its session id (the floor's have none).
    const detectionParts = statsAfter.timedOut
      ? decomposeDetections(
          reports.flatMap((r) => r.silentTimes ?? []),
          statsAfter.timedOut,
          2 * intervalMs,
        )
      : undefined;
    const detectionsByFrame = reports.reduce((sum, r) => sum + r.detectionsByFrame, 0);
    const silentTotal = reports.reduce((sum, r) => sum + r.silentTotal, 0);
    const unexpectedCloses = {};
    for (const r of reports) {
      for (const [k, v] of Object.entries(r.unexpectedCloses)) {
        unexpectedCloses[k] = (unexpectedCloses[k] ?? 0) + v;
      }
    }
    const lagP99Ms = Math.max(...windows.map((w) => w.lagP99Ms));

    return {
      server: server.name,
      n,
      intervalMs,
      connected: ready_,
      failed,
      failures,
      connectSeconds,
      openAtWindowEnd,
      window: {
        seconds,
        heartbeats,
        messagesSent: windows.reduce((sum, w) => sum + (w.messagesSent ?? 0), 0),
        echoes,
        outOfOrder: windows.reduce((sum, w) => sum + (w.outOfOrder ?? 0), 0),
      },
      cpu: {
        share: (cpu1 - cpu0) / seconds,
        msPer1kHeartbeats: heartbeats > 0 ? ((cpu1 - cpu0) * 1000) / (heartbeats / 1000) : null,
        // Only with application messages in the load: server CPU per 1,000 echoed.
        msPer1kEchoes: echoes > 0 ? ((cpu1 - cpu0) * 1000) / (echoes / 1000) : null,
      },
      memory: {
        idleRssBytes: idleRss,
        rssBytes: rss,
        rssSamples,
        bytesPerConnection: (rss - idleRss) / held,
        idleAfterGc,
        loadedAfterGc,
        bytesPerConnectionAfterGc: (loadedAfterGc.rss - idleAfterGc.rss) / held,
        jsBytesPerConnectionAfterGc:
          (loadedAfterGc.heapUsed +
            loadedAfterGc.external -
            idleAfterGc.heapUsed -
            idleAfterGc.external) /
          held,
      },
      rttMs: summarize(rtts),
      detectionErrorMs: {
        ...summarize(detections),
        // Every silent client's lateness, for a p99 pooled over runs (bench/tail.mjs).
        samples: detections,
        silent: silentTotal,
        undetected: silentTotal - detections.length,
        byCloseFrame: detectionsByFrame,
        timedOut: silenceTimedOut,
        waitedSeconds: silenceSeconds,
        loadEventLoopLagMaxMs: Math.max(...reports.slice(0, -1).map((r) => r.lagMaxMs)),
        // The probe's own stalls read as detection error: it should stay small.
        probeEventLoopLagMaxMs: reports.at(-1).lagMaxMs,
      },
      // Heartline only: each silent client's error split into uplink, judged, downlink.
      detectionParts,
      // The kernel over the silence phase: loopback backlog drops and TCP retransmissions.
      silenceNet,
      unexpectedCloses,
      gc: { steady: gcSteady, silence: gcSilence },
      tail,
      load: {
        processes: generatorCount,
        sourceAddresses,
        cpuShare: (loadCpu1 - loadCpu0) / seconds,
        eventLoopLagP99Ms: lagP99Ms,
      },
      serverStats: { beforeSilence: statsBefore, afterSilence: summarizeStats(statsAfter) },
      elapsedSeconds: (performance.now() - started) / 1000,
      profile,
      silenceProfile,
      heapProfile,
      loadavg: { before: loadavgBefore, after: loadavg() },
    };
  } finally {
    await Promise.all(children.map((child) => kill(child, 0)));
  }
}

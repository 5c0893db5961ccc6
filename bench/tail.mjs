// Issue 26 part 1: the detection tail at N = 15,000, X = 1 s, in alternating
// floor/Heartline pairs, with what explains each run's stalls beside it:
// the server's event-loop delay histogram and its stalls over 20 ms
// (servers/common.mjs), /proc/<pid>/schedstat for whether the server was on
// a CPU or waiting for one during each stall, and the server core's steal
// time (lib/timeline.mjs). A script, not a test.
//
//   node bench/tail.mjs [--n=15000] [--pairs=7] [--window=20] [--cps=1500]
//                       [--resume]            Heartline with resumable sessions on (in memory),
//                                             clients offering them; the floor unchanged
//                       [--profile-silence]   a CPU profile of Heartline's silence phase (1 ms
//                                             sampling) per run, in bench/results/profiles/
//                       [--trace-gc]          both servers under --trace-gc-nvp
//
// Targets (issue 26): median per-run detection p99 ≤ 1.0× the floor's, median
// per-run RTT p99 ≤ 1.0×, CPU per heartbeat ≤ 1.0× (≤ 1.05× with --resume),
// pooled detection p99 ≤ 1.2×, and a share of runs with a detection p99 over
// 50 ms no higher than the floor's.

import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline } from "./lib/build-heartline.mjs";
import { describeDecomposition } from "./lib/decompose.mjs";
import { describeMachine } from "./lib/machine.mjs";
import { describeNetDelta } from "./lib/net-drops.mjs";
import { boundRun, killAll, sleep } from "./lib/procs.mjs";
import { fileLimitRefusal, runScenario, scenarioTiming } from "./lib/scenario.mjs";
import { percentile, sorted } from "./lib/stats.mjs";

const INTERVAL_MS = 1000;
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    n: { type: "string", default: "15000" },
    pairs: { type: "string", default: "7" },
    window: { type: "string", default: "20" },
    cps: { type: "string", default: "1500" },
    resume: { type: "boolean", default: false },
    "profile-silence": { type: "boolean", default: false },
    "trace-gc": { type: "boolean", default: false },
  },
});
const n = Number(args.n);
const pairs = Number(args.pairs);
const timing = scenarioTiming({
  connectPerSecond: Number(args.cps),
  windowSeconds: Number(args.window),
  intervalMs: INTERVAL_MS,
});
const CPU_TARGET = args.resume ? 1.05 : 1.0;
const log = (line) => process.stderr.write(`${line}\n`);

const perScenarioMs =
  (n / timing.connectPerSecond) * 1000 * 3 + timing.windowMs + 3 * INTERVAL_MS + 120_000;
const deadlineMs = 60_000 + 2 * pairs * perScenarioMs;
const deadline = boundRun("tail", deadlineMs, log);

const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "—");
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : "—");
function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The figures of one run that the report compares and explains. */
function summarizeRun(r, name, pair) {
  const t = r.tail;
  return {
    server: name,
    pair,
    connected: r.connected,
    detectionP99: r.detectionErrorMs.p99,
    detectionMax: r.detectionErrorMs.max,
    undetected: r.detectionErrorMs.undetected,
    detections: r.detectionErrorMs.samples,
    rttP99: r.rttMs.p99,
    msPer1kHeartbeats: r.cpu.msPer1kHeartbeats,
    cpuShare: r.cpu.share,
    loopSteady: r.gc.steady.loopDelayMs,
    loopSilence: r.gc.silence.loopDelayMs,
    gcSteady: r.gc.steady,
    gcSilence: r.gc.silence,
    tail: t,
    probeLagMaxMs: r.detectionErrorMs.probeEventLoopLagMaxMs,
    loadLagP99Ms: r.load.eventLoopLagP99Ms,
    loadavg: r.loadavg,
    silenceProfile: r.silenceProfile,
    parts: r.detectionParts,
    net: r.silenceNet,
  };
}

async function main() {
  const machine = describeMachine();
  const refusal = fileLimitRefusal(n);
  if (refusal) throw new Error(refusal);
  const heartline = args.resume
    ? {
        name: "heartline-resume",
        kind: "heartline",
        script: await buildHeartline("heartline-resume"),
        env: { BENCH_RESUME: "1" },
        load: { resume: true },
      }
    : { name: "heartline", kind: "heartline", script: await buildHeartline() };
  const nodeArgs = args["trace-gc"] ? [process.env.TRACE_GC_FLAG ?? "--trace-gc-nvp"] : [];
  const floor = { name: "floor", kind: "floor", script: here("./servers/floor.mjs"), nodeArgs };
  heartline.nodeArgs = nodeArgs;
  const runs = [];
  let scenario = 0;
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? [floor, heartline] : [heartline, floor];
    for (const server of order) {
      if (runs.length > 0) await sleep(timing.cooldownMs);
      log(`tail: ${server.name}, pair ${pair + 1}/${pairs}, N = ${n}`);
      // A fresh set of source addresses per scenario (the previous ones' ports sit in TIME_WAIT).
      const k = scenario++;
      const sourceAddresses = [0, 1].map(
        (i) => `127.0.${1 + Math.floor((2 * k + i) / 250)}.${2 + ((2 * k + i) % 250)}`,
      );
      const r = await runScenario({
        server,
        n,
        intervalMs: INTERVAL_MS,
        timing,
        log,
        profileDir:
          server === heartline && args["profile-silence"] ? here("./results/profiles") : undefined,
        profileSilence: args["profile-silence"],
        sourceAddresses,
      });
      const run = summarizeRun(r, server === floor ? "floor" : "heartline", pair);
      const s = run.tail.silence;
      log(
        `  detection p99 ${fmt(run.detectionP99)} ms (max ${fmt(run.detectionMax)}), RTT p99 ${fmt(run.rttP99, 2)} ms, ` +
          `${fmt(run.msPer1kHeartbeats, 2)} ms CPU / 1k heartbeats; silence: ${s.stalls} stalls ≥ 20 ms ` +
          `(${s.over} ≥ 50 ms, ${s.stallMs} ms held; running ${pct(s.runningShare)}, waiting ${pct(s.waitingShare)}, ` +
          `its other threads ran ${pct(s.helpersShare)}), ` +
          `server core steal ${pct(s.serverCore.steal)}, loadavg ${run.loadavg.before[0]} → ${run.loadavg.after[0]}; ` +
          `kernel ${describeNetDelta(run.net)}` +
          (run.parts ? `; detection parts: ${describeDecomposition(run.parts)}` : ""),
      );
      runs.push(run);
    }
  }
  const report = render(machine, runs);
  process.stdout.write(`\n${report.text}\n`);
  const dir = here("./results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const name = `${date}-${machine.commit}-tail${args.resume ? "-resume" : ""}${pairs < 7 || n !== 15000 ? "-partial" : ""}`;
  writeFileSync(`${dir}/${name}.md`, `${report.text}\n`);
  const raw = runs.map(({ detections, ...rest }) => rest);
  writeFileSync(
    `${dir}/${name}.json`,
    `${JSON.stringify({ date, machine, n, pairs, timing, resume: args.resume, runs: raw, verdicts: report.verdicts }, null, 2)}\n`,
  );
  log(`tail: wrote bench/results/${name}.md and .json`);
  if (report.verdicts.some((v) => !v.pass)) process.exitCode = 3;
}

/** The experiment knobs a run was given, as they would be typed before the command. */
function envPrefix() {
  return ["BENCH_SERVER_NODE_ARGS", "BENCH_NO_AFTER_IO"]
    .filter((k) => process.env[k])
    .map((k) => `${k}=${JSON.stringify(process.env[k])} `)
    .join("");
}

function render(machine, runs) {
  const of = (name) => runs.filter((r) => r.server === name);
  const floor = of("floor");
  const hl = of("heartline");
  const pooled = (rs) => percentile(sorted(rs.flatMap((r) => r.detections)), 99);
  const over50 = (rs) => rs.filter((r) => r.detectionP99 > 50).length / rs.length;
  const figures = [
    ["median per-run detection p99, ms", (rs) => median(rs.map((r) => r.detectionP99)), 1.0],
    ["median per-run pong RTT p99, ms", (rs) => median(rs.map((r) => r.rttP99)), 1.0],
    [
      "median CPU ms per 1,000 heartbeats",
      (rs) => median(rs.map((r) => r.msPer1kHeartbeats)),
      CPU_TARGET,
    ],
    ["pooled detection p99, ms", pooled, 1.2],
  ];
  const verdicts = figures.map(([label, get, target]) => {
    const f = get(floor);
    const h = get(hl);
    return { label, floor: f, heartline: h, ratio: h / f, target, pass: h / f <= target };
  });
  const shareF = over50(floor);
  const shareH = over50(hl);
  verdicts.push({
    label: "share of runs with detection p99 > 50 ms",
    floor: shareF,
    heartline: shareH,
    ratio: null,
    target: "≤ floor's",
    pass: shareH <= shareF,
  });
  const lines = [
    `# The detection tail at N = ${n.toLocaleString("en-US")} (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}. X = ${INTERVAL_MS} ms, timeout 2X; server pinned to core 0, ` +
      `load on core 1; ${pairs} floor/Heartline pairs, alternating which runs first; steady window ${timing.windowMs / 1000} s; ` +
      `${args.resume ? "Heartline with `resume: {}` and clients offering resumption" : "Heartline with its defaults"}. ` +
      `Command: \`${envPrefix()}node bench/tail.mjs ${process.argv.slice(2).join(" ")}\`.`,
    "",
    "| figure | floor | Heartline | ratio | target | verdict |",
    "| --- | ---: | ---: | ---: | --- | --- |",
    ...verdicts.map(
      (v) =>
        `| ${v.label} | ${v.ratio === null ? pct(v.floor) : fmt(v.floor, 2)} | ${v.ratio === null ? pct(v.heartline) : fmt(v.heartline, 2)} | ` +
        `${v.ratio === null ? "" : `${fmt(v.ratio, 2)}×`} | ${typeof v.target === "number" ? `≤ ${v.target}×` : v.target} | ${v.pass ? "PASS" : "MISS"} |`,
    ),
    "",
    "Per run. Stalls: the server's event loop held ≥ 20 ms (≥ 50 ms in brackets), in the steady window and in the silence phase; " +
      "*running* / *waiting*: of the time held, the share the server's main thread was on a CPU (its own work, GC included) / " +
      "runnable but waiting for one (another task on its core, or the hypervisor), from /proc/<pid>/schedstat; *own threads*: the time the " +
      "server's other threads (V8's GC helpers, libuv's pool, all pinned to core 0 too) ran meanwhile: waiting on them is the server's own stall; steal: core 0's steal time over the phase.",
    "",
    "*Split*: Heartline's runs only (its server reports each timeout with the session id; the floor's has none): each silent client's " +
      "error = uplink (its last ping's way to the server) + judged (the server's own lateness past lastHeardAt + 2X) + downlink (the close frame's way back), p99 of each, ms. " +
      "*Kernel*: over the silence phase, packets the loopback backlog dropped / TCP segments sent again (machine-wide).",
    "",
    "| pair | server | detection p99 / max, ms | RTT p99, ms | CPU ms / 1k beats | loop delay p99 / max (steady), ms | stalls steady | loop delay p99 / max (silence), ms | stalls silence | running / waiting / own threads in stalls (silence) | steal core 0 (silence) | GC in silence (mark-compacts, scavenges, ms) | split p99: uplink / judged / downlink, ms | kernel: dropped / resent |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...runs.map((r) => {
      const st = r.tail.steady;
      const si = r.tail.silence;
      const g = r.gcSilence;
      return (
        `| ${r.pair + 1} | ${r.server} | ${fmt(r.detectionP99)} / ${fmt(r.detectionMax)} | ${fmt(r.rttP99, 2)} | ${fmt(r.msPer1kHeartbeats, 2)} | ` +
        `${fmt(r.loopSteady?.p99)} / ${fmt(r.loopSteady?.max)} | ${st.stalls} (${st.over}) | ${fmt(r.loopSilence?.p99)} / ${fmt(r.loopSilence?.max)} | ` +
        `${si.stalls} (${si.over}) | ${pct(si.runningShare)} / ${pct(si.waitingShare)} / ${pct(si.helpersShare)} | ${pct(si.serverCore.steal)} | ` +
        `${g.markCompact.count}, ${g.scavenge.count}, ${fmt(g.markCompact.totalMs + g.scavenge.totalMs, 0)} | ` +
        `${r.parts ? `${fmt(r.parts.uplinkMs.p99)} / ${fmt(r.parts.judgedMs.p99)} / ${fmt(r.parts.downlinkMs.p99)}` : "—"} | ` +
        `${r.net.backlogDrops ?? "—"} / ${r.net.retransSegs ?? "—"} |`
      );
    }),
    "",
    "The biggest stalls (≥ 50 ms) of each run, silence phase: `ms held (running ms / waiting ms / own threads ms, steal)`.",
    "",
    ...runs
      .filter((r) => r.tail.silence.biggest.length > 0)
      .map(
        (r) =>
          `- pair ${r.pair + 1} ${r.server}: ${r.tail.silence.biggest
            .map((b) => `${b.ms} (${b.runningMs}/${b.waitingMs}/${b.helpersMs}, ${pct(b.steal)})`)
            .join(", ")}`,
      ),
  ];
  return { text: lines.join("\n"), verdicts };
}

main()
  .catch((error) => {
    log(`tail: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await killAll();
  });

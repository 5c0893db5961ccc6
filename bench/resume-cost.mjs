// Issue 13's cost check: what resumable sessions cost a Heartline server, as
// ratios against resumption off at the same load, measured in alternating
// off/on pairs (off, on; on, off; …) so that drift in a shared machine's load
// hits both alike. Two scenarios:
//
//   heartbeat  N idle clients pinging every X = 1 s: CPU per heartbeat (budget ≤ 1.05×)
//              and memory per connection (budget: at most 1 KiB more)
//   messages   1,000 clients × 10 application messages/s, each echoed by the
//              server: CPU per echoed message (budget ≤ 1.3×)
//
// Both sides run one bundle (bench/servers/heartline-resume.mjs); "off" sets
// BENCH_RESUME=0 and its clients speak plain v1, "on" has `resume: {}` and
// clients that offer `heartline.resume`, number their messages and ack the
// server's every 32 or with their next ping (bench/load/clients.mjs).
//
//   node bench/resume-cost.mjs [--n=5000] [--message-n=1000] [--rate=10] [--pairs=3]
//                              [--window=20] [--cps=500] [--only=heartbeat|messages]
//
// A script, not a test, like bench/run.mjs (and apart from it); it reuses bench/lib.

import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline } from "./lib/build-heartline.mjs";
import { describeMachine } from "./lib/machine.mjs";
import { boundRun, killAll, sleep } from "./lib/procs.mjs";
import { fileLimitRefusal, runScenario, scenarioTiming } from "./lib/scenario.mjs";

const INTERVAL_MS = 1000;
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
// N = 5,000 connected at 500/s: on the shared 2-core VM (loadavg 10+) a 1,500/s ramp of 10,000
// overflowed the server's accept backlog (ECONNRESET, handshake timeouts) and lost the run.
const DEFAULTS = {
  n: "5000",
  "message-n": "1000",
  rate: "10",
  pairs: "3",
  window: "20",
  cps: "500",
};
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    ...Object.fromEntries(
      Object.entries(DEFAULTS).map(([k, v]) => [k, { type: "string", default: v }]),
    ),
    only: { type: "string" },
  },
});
const pairs = Number(args.pairs);
const timing = scenarioTiming({
  connectPerSecond: Number(args.cps),
  windowSeconds: Number(args.window),
  intervalMs: INTERVAL_MS,
});
const BUDGET = { cpuPerHeartbeat: 1.05, extraBytesPerConnection: 1024, cpuPerMessage: 1.3 };
const log = (line) => process.stderr.write(`${line}\n`);

const scenarios = [
  { name: "heartbeat", n: Number(args.n), messagesPerSecond: 0 },
  { name: "messages", n: Number(args["message-n"]), messagesPerSecond: Number(args.rate) },
].filter((s) => !args.only || s.name === args.only);

/** Every phase of runScenario is bounded; this bounds the whole run, whatever hangs. */
const deadlineMs =
  60_000 +
  scenarios.reduce(
    (sum, s) =>
      sum +
      2 *
        pairs *
        ((s.n / timing.connectPerSecond) * 1000 + timing.windowMs + 3 * INTERVAL_MS + 90_000),
    0,
  );
const deadline = boundRun("resume-cost", deadlineMs, log);

const sortedNumbers = (xs) => xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
function median(xs) {
  const s = sortedNumbers(xs);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
/** Median with min and max: the spread over the pairs. */
function spread(xs) {
  const s = sortedNumbers(xs);
  return {
    median: median(s),
    min: s[0] ?? Number.NaN,
    max: s.at(-1) ?? Number.NaN,
    count: s.length,
  };
}

/** The figures each scenario compares, read from one runScenario result. */
const FIGURES = {
  heartbeat: [
    {
      key: "cpuPerHeartbeat",
      label: "CPU ms per 1,000 heartbeats",
      kind: "ratio",
      get: (r) => r.cpu.msPer1kHeartbeats,
    },
    {
      key: "rss",
      label: "RSS per connection, B",
      kind: "delta",
      get: (r) => r.memory.bytesPerConnection,
    },
    {
      key: "rssAfterGc",
      label: "RSS per connection after full GC, B",
      kind: "delta",
      get: (r) => r.memory.bytesPerConnectionAfterGc,
    },
    {
      key: "js",
      label: "JS heap + external per connection after full GC, B",
      kind: "delta",
      get: (r) => r.memory.jsBytesPerConnectionAfterGc,
    },
  ],
  messages: [
    {
      key: "cpuPerMessage",
      label: "CPU ms per 1,000 echoed messages",
      kind: "ratio",
      get: (r) => r.cpu.msPer1kEchoes,
    },
    {
      key: "cpuShare",
      label: "server CPU, % of one core",
      kind: "ratio",
      get: (r) => r.cpu.share * 100,
    },
  ],
};

function summarizeRun(r, scenario, resume, pair) {
  return {
    scenario: scenario.name,
    resume,
    pair,
    n: r.n,
    open: r.openAtWindowEnd,
    heartbeats: r.window.heartbeats,
    messagesSent: r.window.messagesSent,
    echoes: r.window.echoes,
    outOfOrder: r.window.outOfOrder,
    cpuShare: r.cpu.share,
    msPer1kHeartbeats: r.cpu.msPer1kHeartbeats,
    msPer1kEchoes: r.cpu.msPer1kEchoes,
    bytesPerConnection: r.memory.bytesPerConnection,
    bytesPerConnectionAfterGc: r.memory.bytesPerConnectionAfterGc,
    jsBytesPerConnectionAfterGc: r.memory.jsBytesPerConnectionAfterGc,
    rttP99: r.rttMs.p99,
    detectionP99: r.detectionErrorMs.p99,
    undetected: r.detectionErrorMs.undetected,
    loadCpuShare: r.load.cpuShare,
    loadLagP99Ms: r.load.eventLoopLagP99Ms,
    loadavg: r.loadavg,
    serverStats: r.serverStats.beforeSilence,
    unexpectedCloses: r.unexpectedCloses,
  };
}

/**
 * Why a run measured a starved load rather than the server, or null. On a
 * shared machine the load's core can be taken by other processes: its
 * clients then send a fraction of their beats and messages, and CPU per
 * beat or per message is mostly the server's fixed cost divided by too few.
 * Valid: at least 75% of the heartbeats (N per X) and echoes (N × rate)
 * the window should hold.
 */
function starved(run, scenario) {
  const seconds = timing.windowMs / 1000;
  const beats = (scenario.n * seconds * 1000) / INTERVAL_MS;
  const echoes = scenario.n * scenario.messagesPerSecond * seconds;
  const out = [];
  if (run.heartbeats < 0.75 * beats) out.push(`${run.heartbeats} of ${beats} heartbeats`);
  if (run.echoes < 0.75 * echoes) out.push(`${run.echoes} of ${echoes} echoes`);
  return out.length ? out.join(", ") : null;
}

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");

async function main() {
  const machine = describeMachine();
  for (const s of scenarios) {
    const refusal = fileLimitRefusal(s.n);
    if (refusal) throw new Error(refusal);
  }
  const script = await buildHeartline("heartline-resume");
  const variant = (resume, scenario) => ({
    name: resume ? "heartline-resume" : "heartline",
    kind: "heartline",
    script,
    env: { BENCH_RESUME: resume ? "1" : "0" },
    load: { resume, messagesPerSecond: scenario.messagesPerSecond },
  });
  const runs = [];
  const comparisons = [];
  const failures = [];
  for (const scenario of scenarios) {
    // Pairs run until `pairs` of them are valid, at most `pairs` extra (see `starved`).
    let valid = 0;
    for (let pair = 0; valid < pairs && pair < 2 * pairs; pair++) {
      const order = pair % 2 === 0 ? [false, true] : [true, false];
      const byResume = {};
      for (const resume of order) {
        if (runs.length > 0) await sleep(timing.cooldownMs);
        log(
          `resume-cost: ${scenario.name}, pair ${pair + 1} (${valid} of ${pairs} valid so far), resume ${resume ? "on" : "off"}, ` +
            `N = ${scenario.n}${scenario.messagesPerSecond ? ` × ${scenario.messagesPerSecond} msg/s` : ""}`,
        );
        const attempt = () =>
          runScenario({
            server: variant(resume, scenario),
            n: scenario.n,
            intervalMs: INTERVAL_MS,
            timing,
            log,
          });
        // A busy machine can fail a connect phase: one more try, then the run stops with the reason.
        const r = await attempt().catch(async (error) => {
          log(`  failed (${error.message}); once more after a cooldown`);
          failures.push({ scenario: scenario.name, pair, resume, error: String(error.message) });
          await sleep(2 * timing.cooldownMs);
          return attempt();
        });
        const run = summarizeRun(r, scenario, resume, pair);
        run.starved = starved(run, scenario);
        log(
          `  CPU ${(run.cpuShare * 100).toFixed(1)}%, ${fmt(run.msPer1kHeartbeats)} ms / 1k heartbeats` +
            (scenario.messagesPerSecond
              ? `, ${fmt(run.msPer1kEchoes)} ms / 1k echoes (${run.echoes} echoed)`
              : "") +
            `, RSS/conn ${fmt(run.bytesPerConnection, 0)} B, JS/conn ${fmt(run.jsBytesPerConnectionAfterGc, 0)} B` +
            `, load CPU ${(run.loadCpuShare * 100).toFixed(0)}%, loadavg ${run.loadavg.before[0]} → ${run.loadavg.after[0]}` +
            (run.starved ? `; STARVED: ${run.starved}` : ""),
        );
        runs.push(run);
        byResume[resume] = r;
      }
      const comparison = { scenario: scenario.name, pair };
      // A pair with a starved run is shown but left out of the medians.
      comparison.valid = !runs.slice(-2).some((r) => r.starved);
      if (comparison.valid) valid++;
      for (const f of FIGURES[scenario.name]) {
        const off = f.get(byResume.false);
        const on = f.get(byResume.true);
        comparison[f.key] = f.kind === "ratio" ? on / off : on - off;
      }
      comparisons.push(comparison);
    }
  }

  const lines = [
    `# Cost of resumption (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}. X = ${INTERVAL_MS} ms, timeout 2X; ` +
      `server on core 0, load on core 1; steady window ${timing.windowMs / 1000} s; ${pairs} off/on pairs per scenario, ` +
      "alternating which runs first. Off: `resume` absent, plain v1 clients. On: `resume: {}`, clients offering " +
      "`heartline.resume`, `seq` on every message, acks every 32 messages or with the next ping.",
    "",
    "| scenario | pair | resume | N | valid | CPU % | CPU ms / 1k heartbeats | CPU ms / 1k echoes | echoed | RSS / conn, B | RSS / conn after GC, B | JS / conn after GC, B | load CPU % | loadavg (1 min) before → after |",
    "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...runs.map(
      (r) =>
        `| ${r.scenario} | ${r.pair + 1} | ${r.resume ? "on" : "off"} | ${r.n} | ${r.starved ? `starved: ${r.starved}` : "yes"} | ${fmt(r.cpuShare * 100, 1)} | ` +
        `${fmt(r.msPer1kHeartbeats)} | ${fmt(r.msPer1kEchoes)} | ${r.echoes} | ${fmt(r.bytesPerConnection, 0)} | ` +
        `${fmt(r.bytesPerConnectionAfterGc, 0)} | ${fmt(r.jsBytesPerConnectionAfterGc, 0)} | ${fmt(r.loadCpuShare * 100, 0)} | ` +
        `${r.loadavg.before[0]} → ${r.loadavg.after[0]} |`,
    ),
    "",
    "On ÷ off per pair (ratios), on − off per pair (bytes): median, min and max over the valid pairs " +
      "(a pair with a starved run, one whose load sent under 75% of its heartbeats or messages, is left out).",
    "",
    ...(failures.length
      ? [
          `Failed attempts, each run again once: ${failures.map((f) => `${f.scenario} pair ${f.pair + 1} resume ${f.resume ? "on" : "off"} (${f.error})`).join("; ")}.`,
          "",
        ]
      : []),
    "| scenario | figure | median | min | max | budget | verdict |",
    "| --- | --- | ---: | ---: | ---: | --- | --- |",
  ];
  const verdicts = {};
  for (const scenario of scenarios) {
    for (const f of FIGURES[scenario.name]) {
      const s = spread(
        comparisons.filter((c) => c.scenario === scenario.name && c.valid).map((c) => c[f.key]),
      );
      const budget =
        f.key === "cpuPerHeartbeat"
          ? BUDGET.cpuPerHeartbeat
          : f.key === "cpuPerMessage"
            ? BUDGET.cpuPerMessage
            : f.key === "js" || f.key === "rss" || f.key === "rssAfterGc"
              ? BUDGET.extraBytesPerConnection
              : null;
      // PASS/MISS on the median; "within noise" when the spread straddles the budget.
      let verdict = "";
      if (budget !== null) {
        verdict = s.median <= budget ? "PASS" : "MISS";
        if (s.min <= budget && s.max > budget) verdict += " (spread straddles the budget)";
      }
      verdicts[`${scenario.name}.${f.key}`] = { ...s, budget, verdict };
      const unit = f.kind === "ratio" ? "×" : " B";
      const show = (x) => (f.kind === "ratio" ? fmt(x, 3) : fmt(x, 0));
      lines.push(
        `| ${scenario.name} | ${f.label} | ${show(s.median)}${unit} | ${show(s.min)}${unit} | ${show(s.max)}${unit} | ` +
          `${budget === null ? "" : f.kind === "ratio" ? `≤ ${budget}×` : `≤ +${budget} B`} | ${verdict} |`,
      );
    }
  }
  const text = lines.join("\n");
  process.stdout.write(`\n${text}\n`);
  const dir = here("./results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  // Only a default run is a result to commit; others are marked -partial (git-ignored).
  const partial = args.only || Object.entries(DEFAULTS).some(([k, v]) => args[k] !== v);
  const name = `${date}-${machine.commit}-resume-cost${partial ? "-partial" : ""}`;
  writeFileSync(`${dir}/${name}.md`, `${text}\n`);
  writeFileSync(
    `${dir}/${name}.json`,
    `${JSON.stringify({ date, machine, intervalMs: INTERVAL_MS, timing, pairs, scenarios, budget: BUDGET, failures, runs, comparisons, verdicts }, null, 2)}\n`,
  );
  log(`resume-cost: wrote bench/results/${name}.md and .json`);
}

main()
  .catch((error) => {
    log(`resume-cost: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await killAll();
  });

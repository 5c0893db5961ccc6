// Issue 16's cost check: Heartline with and without a registered
// OpenTelemetry SDK + Prometheus reader, at the same load, alternating
// (heartline, heartline-otel, heartline, heartline-otel…) so that drift in a
// shared machine's load hits both alike. Reports the server's CPU per 1,000
// heartbeats (bench/lib/scenario.mjs's `msPer1kHeartbeats`) for each run and
// the overhead of the medians.
//
//   node bench/otel-cost.mjs [--n=15000] [--rounds=3] [--window=20] [--cps=2500]
//
// Kept apart from bench/run.mjs on purpose (another change reworks it); it
// reuses bench/lib unchanged.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline } from "./lib/build-heartline.mjs";
import { describeMachine } from "./lib/machine.mjs";
import { killAll, sleep } from "./lib/procs.mjs";
import { runScenario, scenarioTiming } from "./lib/scenario.mjs";

const INTERVAL_MS = 1000;
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    n: { type: "string", default: "15000" },
    rounds: { type: "string", default: "3" },
    window: { type: "string", default: "20" },
    // Connections opened per second in the ramp (bench/run.mjs uses 2500).
    cps: { type: "string", default: "2500" },
  },
});
const n = Number(args.n);
const rounds = Number(args.rounds);
const timing = scenarioTiming({
  connectPerSecond: Number(args.cps),
  windowSeconds: Number(args.window),
  intervalMs: INTERVAL_MS,
});
const log = (line) => process.stderr.write(`${line}\n`);

/** Median of the runs that measured anything (a starved load generator may send no heartbeat in the window). */
const median = (xs) => {
  const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const machine = describeMachine();
  const servers = [
    { name: "heartline", kind: "heartline", script: await buildHeartline() },
    { name: "heartline-otel", kind: "heartline", script: await buildHeartline("heartline-otel") },
  ];
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
      if (runs.length > 0) await sleep(timing.cooldownMs);
      log(`otel-cost: round ${round + 1}, ${server.name} at N = ${n}`);
      const r = await runScenario({ server, n, intervalMs: INTERVAL_MS, timing, log });
      const run = {
        server: server.name,
        round,
        msPer1kHeartbeats: r.cpu.msPer1kHeartbeats,
        cpuShare: r.cpu.share,
        heartbeats: r.heartbeats ?? null,
        rttP99: r.rttMs.p99,
        detectionP99: r.detectionErrorMs.p99,
        loadCpuShare: r.load.cpuShare,
      };
      log(
        `  ${run.msPer1kHeartbeats?.toFixed(2)} ms CPU / 1k heartbeats, CPU ${(run.cpuShare * 100).toFixed(1)}%`,
      );
      runs.push(run);
    }
  }
  const of = (name) => runs.filter((r) => r.server === name).map((r) => r.msPer1kHeartbeats);
  const base = median(of("heartline"));
  const otel = median(of("heartline-otel"));
  const overhead = otel / base - 1;
  const lines = [
    `# OpenTelemetry cost, N = ${n}, ${rounds} rounds (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}. X = ${INTERVAL_MS} ms; steady window ${timing.windowMs / 1000} s; Prometheus reader scraped every ${process.env.BENCH_SCRAPE_MS ?? 1000} ms in-process.`,
    "",
    "| round | server | CPU ms / 1k heartbeats | server CPU | load CPU |",
    "| ---: | --- | ---: | ---: | ---: |",
    ...runs.map(
      (r) =>
        `| ${r.round + 1} | ${r.server} | ${r.msPer1kHeartbeats?.toFixed(2)} | ${(r.cpuShare * 100).toFixed(1)}% | ${(r.loadCpuShare * 100).toFixed(0)}% |`,
    ),
    "",
    `Medians: heartline ${base.toFixed(2)}, heartline-otel ${otel.toFixed(2)} ms per 1k heartbeats: overhead ${(overhead * 100).toFixed(1)}% (target ≤ 3%).`,
  ];
  const text = lines.join("\n");
  process.stdout.write(`${text}\n`);
  mkdirSync(here("./results"), { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  // Only the default run is a result to commit; others are marked -partial (git-ignored).
  const partial =
    n !== 15_000 || rounds !== 3 || timing.windowMs !== 20_000 || timing.connectPerSecond !== 2500;
  const name = `${date}-${machine.commit}-otel-cost${partial ? "-partial" : ""}`;
  writeFileSync(here(`./results/${name}.md`), `${text}\n`);
  writeFileSync(
    here(`./results/${name}.json`),
    JSON.stringify({ machine, n, rounds, timing, runs, base, otel, overhead }, null, 2),
  );
}

main()
  .catch((error) => {
    log(`otel-cost: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(() => killAll());

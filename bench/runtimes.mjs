// Issue 27's comparison: the same Heartline server (every default, X = 1 s)
// on Node with `ws`, on Bun (@heartline/server/bun) and on Deno
// (@heartline/server/deno), at the same load, in rotating order per round
// (node, bun, deno; then bun, deno, node; then deno, node, bun…) so that drift
// in a shared machine's load hits each alike. Each run is bench/lib/scenario.mjs
// unchanged: server pinned to core 0, load and probe on core 1.
//
//   node bench/runtimes.mjs [--n=15000] [--rounds=3] [--window=20] [--cps=1500]
//
// Figures: server CPU per 1,000 heartbeats, RSS per connection (and after a
// full GC), detection error p99 (close frame − last frame − 2X, on the probe's
// clock), ping RTT p99. Not compared: GC counts and event-loop delay (Bun and
// Deno have no `gc` performance entries; see servers/runtime-common.mjs).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline } from "./lib/build-heartline.mjs";
import { describeMachine } from "./lib/machine.mjs";
import { killAll, sleep } from "./lib/procs.mjs";
import { runScenario, scenarioTiming } from "./lib/scenario.mjs";

const INTERVAL_MS = 1000;
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
// The pinned executables themselves (root devDependencies), not node_modules/.bin's wrappers:
// the measured pid must be the runtime's own.
const bunBin = here("../node_modules/bun/bin/bun.exe");
const denoBin = here("../node_modules/deno/deno");

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    n: { type: "string", default: "15000" },
    rounds: { type: "string", default: "3" },
    window: { type: "string", default: "20" },
    cps: { type: "string", default: "1500" },
    from: { type: "string" },
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

const median = (xs) => {
  const s = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fixed = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
const kib = (bytes) => fixed(bytes / 1024, 2);

/** The Markdown table of a run (also from its saved JSON: `--from`). */
function render({ machine, timing, runs, n, rounds, names }) {
  // As in bench/run.mjs: a run whose server did not hold N through the window is marked * and left
  // out of the medians (its per-connection figures divide by fewer connections, under other load).
  const held = (r) => r.openAtWindowEnd === n;
  const of = (name, key) => runs.filter((r) => r.server === name && held(r)).map((r) => r[key]);
  const medians = Object.fromEntries(
    names.map((name) => [
      name,
      {
        msPer1kHeartbeats: median(of(name, "msPer1kHeartbeats")),
        rssPerConnection: median(of(name, "rssPerConnection")),
        rssPerConnectionAfterGc: median(of(name, "rssPerConnectionAfterGc")),
        detectionP99: median(of(name, "detectionP99")),
        rttP99: median(of(name, "rttP99")),
      },
    ]),
  );
  const ratio = (name, key) => {
    const value = medians[name][key] / medians["node+ws"][key];
    return Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a";
  };
  const row = (label, key, format) =>
    `| ${label} | ${names.map((name) => format(medians[name][key])).join(" | ")} | ${ratio("bun", key)} | ${ratio("deno", key)} |`;
  const label =
    n === 15_000 && rounds === 3 && timing.windowMs === 20_000
      ? ""
      : " (smaller than the default 15,000 × 3 rounds × 20 s: the notes below say why)";
  const lines = [
    `# Heartline on Node + ws, Bun and Deno, N = ${n.toLocaleString("en-US")}, ${rounds} rounds${label} (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}; Node ${machine.node}, Bun ${process.env.BENCH_BUN_VERSION ?? "1.4.5"}, Deno ${process.env.BENCH_DENO_VERSION ?? "2.9.6"}. ` +
      `X = ${INTERVAL_MS} ms, timeout 2X; steady window ${timing.windowMs / 1000} s; ${timing.connectPerSecond} connections/s; ` +
      "the same server script and options on each (every default), bundled with esbuild from source; order rotated per round.",
    "",
    `Medians over the rounds whose server held all ${n.toLocaleString("en-US")} connections through the window (ratios to Node + ws; below 1× is better; n/a: no such run):`,
    "",
    `| figure | ${names.join(" | ")} | bun / node | deno / node |`,
    `| --- | ${names.map(() => "---:").join(" | ")} | ---: | ---: |`,
    row("CPU ms per 1,000 heartbeats", "msPer1kHeartbeats", (x) => fixed(x, 2)),
    row("RSS per connection, KiB", "rssPerConnection", kib),
    row("RSS per connection after full GC, KiB", "rssPerConnectionAfterGc", kib),
    row("detection error p99, ms", "detectionP99", (x) => fixed(x)),
    row("ping RTT p99, ms", "rttP99", (x) => fixed(x)),
    "",
    "Every run (* the server closed live clients during the window, by close code: " +
      runs
        .filter((r) => !held(r))
        .map((r) => `round ${r.round + 1} ${r.server} ${JSON.stringify(r.unexpectedCloses)}`)
        .join("; ") +
      "):",
    "",
    "| round | server | held / N | CPU ms / 1k hb | server CPU | RSS/conn KiB | after GC KiB | detection p50 / p99 ms | undetected | RTT p99 ms | load CPU | loadavg before |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...runs.map(
      (r) =>
        `| ${r.round + 1} | ${r.server} | ${r.openAtWindowEnd} / ${n}${held(r) ? "" : " *"} | ${fixed(r.msPer1kHeartbeats, 2)} | ${fixed(r.cpuShare * 100)}% | ${kib(r.rssPerConnection)} | ${kib(r.rssPerConnectionAfterGc)} | ${fixed(r.detectionP50)} / ${fixed(r.detectionP99)} | ${r.undetected} | ${fixed(r.rttP99)} | ${fixed(r.loadCpuShare * 100, 0)}% | ${r.loadavg.before.join(", ")} |`,
    ),
  ];
  return { text: lines.join("\n"), medians };
}

async function main() {
  if (args.from !== undefined) {
    // Re-render a run's table from its JSON (no measurement).
    const saved = JSON.parse(readFileSync(args.from, "utf8"));
    const names = [...new Set(saved.runs.map((r) => r.server))];
    process.stdout.write(`${render({ ...saved, names }).text}\n`);
    return;
  }
  const machine = describeMachine();
  const runtimeBundle = await buildHeartline("heartline-runtime");
  const servers = [
    { name: "node+ws", kind: "heartline", script: await buildHeartline() },
    { name: "bun", kind: "heartline", script: runtimeBundle, runtime: [bunBin] },
    {
      name: "deno",
      kind: "heartline",
      script: runtimeBundle,
      runtime: [denoBin, "run", "--allow-all", "--no-lock", "--v8-flags=--expose-gc"],
    },
  ];
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const server of order) {
      if (runs.length > 0) await sleep(timing.cooldownMs);
      log(`runtimes: round ${round + 1}, ${server.name} at N = ${n}`);
      const r = await runScenario({ server, n, intervalMs: INTERVAL_MS, timing, log });
      const run = {
        server: server.name,
        round,
        connected: r.connected,
        failed: r.failed,
        openAtWindowEnd: r.openAtWindowEnd,
        msPer1kHeartbeats: r.cpu.msPer1kHeartbeats,
        cpuShare: r.cpu.share,
        heartbeats: r.window.heartbeats,
        rssPerConnection: r.memory.bytesPerConnection,
        rssPerConnectionAfterGc: r.memory.bytesPerConnectionAfterGc,
        jsPerConnectionAfterGc: r.memory.jsBytesPerConnectionAfterGc,
        rttP99: r.rttMs.p99,
        detectionP50: r.detectionErrorMs.p50,
        detectionP99: r.detectionErrorMs.p99,
        undetected: r.detectionErrorMs.undetected,
        loadCpuShare: r.load.cpuShare,
        loadavg: r.loadavg,
        unexpectedCloses: r.unexpectedCloses,
      };
      log(
        `  ${fixed(run.msPer1kHeartbeats, 2)} ms CPU / 1k heartbeats, ${kib(run.rssPerConnection)} KiB RSS/conn, detection p99 ${fixed(run.detectionP99)} ms`,
      );
      runs.push(run);
    }
  }
  const { text, medians } = render({
    machine,
    timing,
    runs,
    n,
    rounds,
    names: servers.map((s) => s.name),
  });
  process.stdout.write(`${text}\n`);
  mkdirSync(here("./results"), { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const partial = n !== 15_000 || rounds !== 3 || timing.windowMs !== 20_000;
  const name = `${date}-${machine.commit}-runtimes${partial ? `-n${n}` : ""}`;
  writeFileSync(here(`./results/${name}.md`), `${text}\n`);
  writeFileSync(
    here(`./results/${name}.json`),
    JSON.stringify({ machine, n, rounds, timing, runs, medians }, null, 2),
  );
  log(`runtimes: bench/results/${name}.md`);
}

main()
  .catch((error) => {
    log(`runtimes: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(() => killAll());

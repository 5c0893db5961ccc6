// pnpm bench: Heartline's server next to a hand-written `ws` floor, the `ws`
// README recipe and socket.io, each on core 0 in its own process, with the
// load on core 1. See bench/README.md for what is measured and how.
//
//   node bench/run.mjs [--quick] [--scale] [--n=1000,5000] [--servers=floor,heartline]
//                      [--window=20] [--pairs=3]
//                      [--profile=floor,heartline]   (steady-window CPU profiles in bench/results/profiles/)
//                      [--heap-profile=floor,heartline]   (steady-window allocation samples, same folder)
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline, heartlineAvailable } from "./lib/build-heartline.mjs";
import { describeMachine, openFileLimits } from "./lib/machine.mjs";
import { boundRun, killAll, sleep } from "./lib/procs.mjs";
import { FILE_HEADROOM, fileLimitRefusal, runScenario } from "./lib/scenario.mjs";
import { renderReport } from "./lib/table.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const { values: args } = parseArgs({
  // `pnpm bench -- --quick` passes a bare "--" along: tolerate it.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    quick: { type: "boolean", default: false },
    n: { type: "string" },
    servers: { type: "string" },
    window: { type: "string" },
    profile: { type: "string" },
    "heap-profile": { type: "string" },
    pairs: { type: "string" },
    scale: { type: "boolean", default: false },
    "trace-gc": { type: "boolean", default: false },
    "connect-rate": { type: "string" },
  },
});

// --scale: 50,000 and 100,000 connections at Heartline's default rhythm
// (X = 15 s, timeout 30 s), the floor and Heartline only.
const INTERVAL_MS = args.scale ? 15_000 : 1000;
const defaultNs = args.scale ? [50_000, 100_000] : args.quick ? [1000] : [1000, 5000, 15_000];
const requestedNs = args.n ? args.n.split(",").map(Number) : defaultNs;
/**
 * A server process holds one file per connection. Where the machine will not
 * let a process open enough (the hard limit is the sandbox's, and raising it
 * needs CAP_SYS_RESOURCE), an N is reported as refused, with the reason, and
 * the scale run adds the largest N that fits instead.
 */
const refusals = new Map(requestedNs.map((n) => [n, fileLimitRefusal(n)]));
const ns = requestedNs.filter((n) => refusals.get(n) === null);
if (args.scale && ns.length < requestedNs.length) {
  const fit = Math.floor((openFileLimits().hard - FILE_HEADROOM) / 1000) * 1000;
  if (fit > 0 && !ns.includes(fit) && fileLimitRefusal(fit) === null) ns.push(fit);
  ns.sort((a, b) => a - b);
}
const timing = {
  settleMs: args.quick ? 500 : 1500,
  // Below what a server starved by a busy shared machine still accepts (2,500/s overflowed
  // its backlog); slower with --scale, whose steady load is light but whose connect is long.
  connectPerSecond: Number(args["connect-rate"] ?? (args.scale ? 600 : 1500)),
  // Every client must have started its rhythm (a random phase within X) before the window.
  warmupMs: args.scale ? INTERVAL_MS + 2000 : args.quick ? 2 * INTERVAL_MS : 3 * INTERVAL_MS,
  windowMs: Number(args.window ?? (args.scale ? 30 : args.quick ? 5 : 20)) * 1000,
  silenceGraceMs: 5000,
  cooldownMs: args.scale ? 5000 : 3000,
  // A load process holds this many connections (its open-file limit is raised to fit, if it can be).
  perGenerator: args.scale ? 15_000 : 5000,
};
/** Floor/Heartline pairs per N, run in alternating order; the other servers run once per N. */
const pairs = Number(args.pairs ?? (args.quick ? 1 : 3));
/**
 * Source addresses per scenario: at most 20,000 connections each (one address
 * has about 28,000 ephemeral ports), and a fresh set for every scenario, since
 * the previous one's ports linger in TIME_WAIT and a bound connect cannot reuse them.
 */
const addressesPerScenario = Math.max(2, Math.ceil(Math.max(...ns) / 20_000) + 1);
let scenarioCount = 0;
function nextSourceAddresses() {
  const k = scenarioCount++;
  return Array.from({ length: addressesPerScenario }, (_, i) => {
    const host = 2 + ((k * addressesPerScenario + i) % 250);
    return `127.0.${1 + Math.floor((k * addressesPerScenario + i) / 250)}.${host}`;
  });
}

const servers = [
  { name: "floor", kind: "floor", script: here("./servers/floor.mjs") },
  { name: "ws-recipe", kind: "ws-recipe", script: here("./servers/ws-recipe.mjs") },
  { name: "socket.io", kind: "socketio", script: here("./servers/socketio.mjs") },
  { name: "heartline", kind: "heartline", script: null },
]
  .filter((s) =>
    args.servers
      ? args.servers.split(",").includes(s.name)
      : !args.scale || s.name === "floor" || s.name === "heartline",
  )
  // --servers also sets the order (the first server at each N runs right after the previous N).
  .sort((a, b) =>
    args.servers
      ? args.servers.split(",").indexOf(a.name) - args.servers.split(",").indexOf(b.name)
      : 0,
  )
  .map((s) => ({
    ...s,
    profile: args.profile?.split(",").includes(s.name) ?? false,
    heapProfile: args["heap-profile"]?.split(",").includes(s.name) ?? false,
    // --trace-gc: V8's per-collection trace (promoted bytes and all) on stdout, phases marked.
    nodeArgs: args["trace-gc"] ? ["--trace-gc-nvp"] : [],
  }));

/**
 * The scenarios of one N in run order: the servers without a pair once, then
 * `pairs` floor/Heartline pairs, alternating which goes first.
 */
function runOrder() {
  const paired = servers.filter((s) => s.name === "floor" || s.name === "heartline");
  const single = servers.filter((s) => !paired.includes(s));
  const order = single.map((server) => ({ server, pair: null }));
  if (paired.length === 0) return order;
  for (let pair = 0; pair < pairs; pair++) {
    const round = pair % 2 === 0 ? paired : [...paired].reverse();
    for (const server of round) order.push({ server, pair });
  }
  return order;
}

const log = (line) => process.stderr.write(`${line}\n`);

// Every phase is bounded; this bounds the whole run, whatever hangs.
const perScenarioMs = (n) =>
  (n / timing.connectPerSecond) * 1000 +
  timing.settleMs +
  timing.warmupMs +
  timing.windowMs +
  3 * INTERVAL_MS +
  timing.silenceGraceMs +
  timing.cooldownMs +
  (args.scale ? 120_000 : 60_000);
const deadlineMs = ns.reduce((sum, n) => sum + perScenarioMs(n) * runOrder().length, 60_000);
const deadline = boundRun("bench", deadlineMs, log);

async function main() {
  const machine = describeMachine();
  log(
    `bench: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ` +
      `open files ${machine.openFiles.soft}/${machine.openFiles.hard}, N = ${ns.join(", ")}`,
  );
  const heartline = servers.find((s) => s.name === "heartline");
  const notes = [];
  for (const [n, why] of refusals) {
    if (why === null) continue;
    notes.push(`N = ${n.toLocaleString("en-US")} not run: ${why}.`);
    log(`bench: N = ${n.toLocaleString("en-US")} not run: ${why}`);
  }
  if (ns.length === 0) throw new Error("no N can run on this machine");
  if (heartline) {
    if (heartlineAvailable()) {
      heartline.script = await buildHeartline();
    } else {
      notes.push("Heartline skipped: packages/server does not export createServer yet.");
      servers.splice(servers.indexOf(heartline), 1);
    }
  }
  const results = [];
  for (const n of ns) {
    for (const { server, pair } of runOrder()) {
      // Let the kernel finish tearing down the previous scenario's sockets.
      if (results.length > 0) await sleep(timing.cooldownMs);
      log(
        `bench: ${server.name} at N = ${n.toLocaleString("en-US")}` +
          `${pair === null ? "" : `, pair ${pair + 1}/${pairs}`}`,
      );
      try {
        const result = await runScenario({
          server,
          n,
          intervalMs: INTERVAL_MS,
          timing,
          log,
          profileDir: server.profile ? here("./results/profiles") : undefined,
          heapProfileDir: server.heapProfile ? here("./results/profiles") : undefined,
          sourceAddresses: nextSourceAddresses(),
        });
        result.pair = pair;
        const gc = result.gc.steady;
        log(
          `  GC in window: ${gc.markCompact.count} mark-compacts ` +
            `(${gc.markCompact.totalMs.toFixed(0)} ms), ${gc.scavenge.count} scavenges ` +
            `(${gc.scavenge.totalMs.toFixed(0)} ms); in silence: ` +
            `${result.gc.silence.markCompact.count} mark-compacts, server loop max ` +
            `${result.gc.silence.loopDelayMaxMs.toFixed(0)} ms; loadavg ` +
            `${result.loadavg.before[0]} → ${result.loadavg.after[0]}`,
        );
        log(
          `  CPU ${(result.cpu.share * 100).toFixed(1)}%, ` +
            `RSS/conn ${(result.memory.bytesPerConnection / 1024).toFixed(2)} KiB, ` +
            `RTT p99 ${result.rttMs.p99?.toFixed(2)} ms, ` +
            `detection p99 ${result.detectionErrorMs.p99?.toFixed(1)} ms ` +
            `(${result.detectionErrorMs.undetected} undetected), load CPU ` +
            `${(result.load.cpuShare * 100).toFixed(0)}%`,
        );
        results.push(result);
      } catch (error) {
        log(`  failed: ${error.stack ?? error}`);
        results.push({ server: server.name, n, pair, error: String(error.message ?? error) });
      }
    }
  }

  const partial =
    args.n ||
    args.servers ||
    args.window ||
    args.profile ||
    args["heap-profile"] ||
    args.pairs ||
    args["trace-gc"] ||
    args["connect-rate"];
  const suffix = `${args.scale ? "-scale" : ""}${args.quick ? "-quick" : partial ? "-partial" : ""}`;
  const date = new Date().toISOString().slice(0, 10);
  const name = `${date}-${machine.commit}${suffix}`;
  const report = {
    date,
    machine,
    intervalMs: INTERVAL_MS,
    timing,
    pairs,
    scale: args.scale,
    ns,
    results,
    notes,
  };
  const markdown = renderReport(report);

  process.stdout.write(`\n${markdown}`);
  const dir = here("./results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${name}.md`, markdown);
  writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
  log(`bench: wrote bench/results/${name}.md and .json`);
}

main()
  .catch((error) => {
    log(`bench: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await killAll();
  });

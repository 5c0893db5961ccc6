// pnpm bench: Heartline's server next to a hand-written `ws` floor, the `ws`
// README recipe and socket.io, each on core 0 in its own process, with the
// load on core 1. See bench/README.md for what is measured and how.
//
//   node bench/run.mjs [--quick] [--n=1000,5000] [--servers=floor,heartline] [--window=20]
//                      [--profile=floor,heartline]   (steady-window CPU profiles in bench/results/profiles/)
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline, heartlineAvailable } from "./lib/build-heartline.mjs";
import { describeMachine } from "./lib/machine.mjs";
import { killAll, sleep } from "./lib/procs.mjs";
import { runScenario } from "./lib/scenario.mjs";
import { checkTargets, renderTable } from "./lib/table.mjs";

const INTERVAL_MS = 1000;
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
  },
});

const ns = args.n ? args.n.split(",").map(Number) : args.quick ? [1000] : [1000, 5000, 15_000];
const timing = {
  settleMs: args.quick ? 500 : 1500,
  connectPerSecond: 2500,
  warmupMs: args.quick ? 2 * INTERVAL_MS : 3 * INTERVAL_MS,
  windowMs: Number(args.window ?? (args.quick ? 5 : 20)) * 1000,
  silenceGraceMs: 5000,
  cooldownMs: 3000,
};

const servers = [
  { name: "floor", kind: "floor", script: here("./servers/floor.mjs") },
  { name: "ws-recipe", kind: "ws-recipe", script: here("./servers/ws-recipe.mjs") },
  { name: "socket.io", kind: "socketio", script: here("./servers/socketio.mjs") },
  { name: "heartline", kind: "heartline", script: null },
]
  .filter((s) => !args.servers || args.servers.split(",").includes(s.name))
  // --servers also sets the order (the first server at each N runs right after the previous N).
  .sort((a, b) =>
    args.servers
      ? args.servers.split(",").indexOf(a.name) - args.servers.split(",").indexOf(b.name)
      : 0,
  )
  .map((s) => ({ ...s, profile: args.profile?.split(",").includes(s.name) ?? false }));

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
  60_000;
const deadlineMs = ns.reduce((sum, n) => sum + perScenarioMs(n) * servers.length, 60_000);
const deadline = setTimeout(() => {
  log(`bench: over its ${Math.round(deadlineMs / 1000)} s budget; killing everything`);
  void killAll().then(() => process.exit(2));
}, deadlineMs);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => void killAll().then(() => process.exit(130)));
}

async function main() {
  const machine = describeMachine();
  log(
    `bench: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ` +
      `open files ${machine.openFiles.soft}/${machine.openFiles.hard}, N = ${ns.join(", ")}`,
  );
  const heartline = servers.find((s) => s.name === "heartline");
  const notes = [];
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
    for (const server of servers) {
      // Let the kernel finish tearing down the previous scenario's sockets.
      if (results.length > 0) await sleep(timing.cooldownMs);
      log(`bench: ${server.name} at N = ${n.toLocaleString("en-US")}`);
      try {
        const result = await runScenario({
          server,
          n,
          intervalMs: INTERVAL_MS,
          timing,
          log,
          profileDir: server.profile ? here("./results/profiles") : undefined,
        });
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
        results.push({ server: server.name, n, error: String(error.message ?? error) });
      }
    }
  }

  const maxN = Math.max(...ns);
  const table = renderTable(results, ns);
  const targets = checkTargets(results, maxN);
  const date = new Date().toISOString().slice(0, 10);
  // Only a full default run is a result to commit; the rest are marked (and git-ignored).
  const partial = args.n || args.servers || args.window || args.profile;
  const name = `${date}-${machine.commit}${args.quick ? "-quick" : partial ? "-partial" : ""}`;
  const markdown = [
    `# Heartline bench, ${date} (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, ${machine.os}. ` +
      `X = ${INTERVAL_MS} ms, timeout 2X. Servers on core 0, load on core 1. ` +
      `Steady window ${timing.windowMs / 1000} s; 5% of the clients silent for detection.`,
    "",
    table,
    "",
    `Targets for Heartline at N = ${maxN.toLocaleString("en-US")}:`,
    "",
    ...targets,
    ...(notes.length ? ["", ...notes.map((n) => `- ${n}`)] : []),
    "",
  ].join("\n");

  process.stdout.write(`\n${markdown}`);
  const dir = here("./results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${name}.md`, markdown);
  writeFileSync(
    `${dir}/${name}.json`,
    `${JSON.stringify({ date, machine, intervalMs: INTERVAL_MS, timing, ns, results, notes }, null, 2)}\n`,
  );
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

// Issue 25's cost check (`pnpm bench:cluster`): what keeping resumable
// sessions in Redis costs, against resumption in memory in the same run, on
// a real redis-server (started here: loopback, a free port, no persistence).
// Both sides run one bundle (bench/servers/heartline-cluster.mjs); the only
// difference is the store. Rounds alternate which side runs first, so drift
// in a shared machine's load hits both alike; each figure is shown per round
// and as median, min and max.
//
//   messages   N resumable connections (1,000, and 10,000 when the open-file
//              limit allows), R messages/s in all, each echoed: messages per
//              second per core (echoes ÷ server CPU, and ÷ server + Redis CPU),
//              added latency per echoed message (p50, p99), Redis commands
//              (INFO commandstats) and round trips (writes on the store's
//              connection) per message
//   memory     Redis used_memory per idle session (after N connected) and per
//              unacknowledged message (clients stop acking, the server sends
//              K to each session)
//   resume     1,000 clients resuming: on a second node after SIGKILL of the
//              first (Redis), on the same process after their links dropped
//              (memory: a killed process has nothing to resume)
//
//   node bench/cluster-cost.mjs [--n=1000,10000] [--rate=2000] [--rounds=3] [--window=10]
//                               [--cps=1000] [--resume-n=1000] [--unacked-k=10] [--only=messages|resume]
//
// Server on core 0; load and redis-server on core 1 (the machine has two).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildHeartline } from "./lib/build-heartline.mjs";
import { describeMachine } from "./lib/machine.mjs";
import { cpuSeconds, kill, killAll, sleep, spawnPinned, waitForMessage } from "./lib/procs.mjs";
import { startRedis, totalCalls } from "./lib/redis-server.mjs";
import { fileLimitRefusal } from "./lib/scenario.mjs";

/** X = 5 s: at 10,000 connections the pings (2,000/s) stay a share of the work like the messages', not five times it. */
const INTERVAL_MS = 5000;
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const DEFAULTS = {
  n: "1000,10000",
  rate: "2000",
  rounds: "3",
  window: "5",
  cps: "1000",
  "resume-n": "1000",
  "unacked-k": "10",
};
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    ...Object.fromEntries(
      Object.entries(DEFAULTS).map(([k, v]) => [k, { type: "string", default: v }]),
    ),
    only: { type: "string" },
    /** A sentence for the results file (e.g. that the machine was shared during the run). */
    note: { type: "string" },
  },
});
const rounds = Number(args.rounds);
const windowMs = Number(args.window) * 1000;
const rate = Number(args.rate);
const cps = Number(args.cps);
const resumeN = Number(args["resume-n"]);
const unackedK = Number(args["unacked-k"]);
const log = (line) => process.stderr.write(`${line}\n`);

// 10,000 only where the descriptor limit allows (each side holds N sockets).
const skippedN = [];
const sizes = args.n
  .split(",")
  .map(Number)
  .filter((n) => {
    const refusal = fileLimitRefusal(n);
    if (refusal) skippedN.push({ n, refusal });
    return !refusal;
  });

/** Every phase is bounded; this bounds the whole run, whatever hangs. */
const deadlineMs =
  120_000 +
  rounds * 2 * sizes.reduce((sum, n) => sum + (n / cps) * 1000 + windowMs + 15_000, 0) +
  rounds * 2 * ((resumeN / cps) * 1000 + 30_000);
const deadline = setTimeout(() => {
  log(`cluster-cost: over its ${Math.round(deadlineMs / 1000)} s budget; killing everything`);
  void killAll().then(() => process.exit(2));
}, deadlineMs);
let redis;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(
    signal,
    () =>
      void killAll()
        .then(() => redis?.stop())
        .then(() => process.exit(130)),
  );
}

function request(child, message, answer, timeoutMs) {
  const reply = waitForMessage(child, answer, timeoutMs);
  child.send(message);
  return reply;
}

async function startServer(script, store, nodeId, keyPrefix) {
  const child = spawnPinned({
    core: SERVER_CORE,
    script,
    name: `server ${store} ${nodeId}`,
    nodeArgs: ["--expose-gc"],
    env: {
      BENCH_STORE: store,
      BENCH_INTERVAL_MS: String(INTERVAL_MS),
      BENCH_NODE_ID: nodeId,
      BENCH_KEY_PREFIX: keyPrefix,
      REDIS_URL: redis.url,
    },
  });
  const ready = await waitForMessage(child, "ready", 20_000);
  return { child, url: `ws://127.0.0.1:${ready.port}${ready.path}` };
}

async function startLoad() {
  const child = spawnPinned({
    core: LOAD_CORE,
    script: here("./load/cluster-clients.mjs"),
    name: "load",
    env: { BENCH_INTERVAL_MS: String(INTERVAL_MS) },
  });
  await waitForMessage(child, "ready", 10_000);
  return child;
}

const stats = async (server) =>
  (await request(server.child, { type: "stats" }, "stats", 10_000)).stats;
const usedMemory = async () => (await redis.info("memory")).used_memory;

/** One side (memory or redis) at N connections: throughput, latency, Redis traffic and memory. */
const loadavg = () => os.loadavg()[0].toFixed(2);

async function messagesRun(script, store, n, round) {
  const loadBefore = loadavg();
  await redis.cli("flushall");
  const keyPrefix = `hl-bench-${round}-${n}:`;
  const memBefore = await usedMemory();
  const server = await startServer(script, store, `${store}-a`, keyPrefix);
  const load = await startLoad();
  try {
    const connected = await request(
      load,
      { type: "connect", url: server.url, n, cps },
      "connected",
      (n / cps) * 1000 + 60_000,
    );
    if (connected.open < n * 0.99)
      throw new Error(`only ${connected.open} of ${n} connected (${connected.failed} failed)`);
    await sleep(1500);
    const memIdle = await usedMemory();
    load.send({ type: "rate", perSecond: rate });
    await sleep(2000); // warm-up
    const cmdBefore = totalCalls(await redis.info("commandstats"));
    const statsBefore = await stats(server);
    const cpuBefore = { server: cpuSeconds(server.child.pid), redis: cpuSeconds(redis.pid) };
    const t0 = performance.now();
    load.send({ type: "window-start" });
    await sleep(windowMs);
    const window = await request(load, { type: "window-stop" }, "window", 10_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = {
      server: cpuSeconds(server.child.pid) - cpuBefore.server,
      redis: cpuSeconds(redis.pid) - cpuBefore.redis,
    };
    const statsAfter = await stats(server);
    const cmdAfter = totalCalls(await redis.info("commandstats"));
    load.send({ type: "rate", perSecond: 0 });

    // Unacknowledged messages held in Redis: clients stop acking, the server sends K to each session.
    load.send({ type: "ack", on: false });
    await sleep(1500);
    const memBeforeUnacked = await usedMemory();
    const sentAll = await request(
      server.child,
      { type: "send-all", k: unackedK },
      "sent-all",
      30_000,
    );
    await sleep(1500);
    const memAfterUnacked = await usedMemory();

    const echoed = statsAfter.echoed - statsBefore.echoed;
    const commands = cmdAfter.calls - cmdBefore.calls;
    const byCommand = Object.fromEntries(
      Object.entries(cmdAfter.byCommand)
        .map(([k, v]) => [k, v - (cmdBefore.byCommand[k] ?? 0)])
        .filter(([, v]) => v > 0),
    );
    return {
      store,
      n,
      round,
      seconds,
      sent: window.sent,
      echoed,
      echoesAtClients: window.echoes,
      outOfOrder: window.outOfOrder,
      latency: window.latencies,
      cpu,
      perCoreServer: echoed / cpu.server,
      perCoreWithRedis: echoed / (cpu.server + (store === "redis" ? cpu.redis : 0)),
      // INFO commandstats counts what Redis executed, the commands inside the Lua scripts included
      // (and this run's own INFO calls: a handful per window, noise against thousands).
      commandsPerMessage: store === "redis" ? commands / echoed : 0,
      // What the store sent: its own count of commands (a script call is one) and of batches.
      commandsSentPerMessage:
        store === "redis"
          ? (statsAfter.storeStats.commands - statsBefore.storeStats.commands) / echoed
          : 0,
      batchesPerMessage:
        store === "redis"
          ? (statsAfter.storeStats.batches - statsBefore.storeStats.batches) / echoed
          : 0,
      byCommand: store === "redis" ? byCommand : {},
      roundTripsPerMessage:
        store === "redis" ? (statsAfter.redisWrites - statsBefore.redisWrites) / echoed : 0,
      bytesPerIdleSession: store === "redis" ? (memIdle - memBefore) / n : 0,
      bytesPerUnackedMessage:
        store === "redis" ? (memAfterUnacked - memBeforeUnacked) / sentAll.sent : 0,
      unackedSent: sentAll.sent,
      storeErrors: statsAfter.storeErrors,
      loadavg: `${loadBefore} → ${loadavg()}`,
    };
  } finally {
    await kill(load, 0);
    await kill(server.child, 0);
  }
}

/** resumeN clients: after SIGKILL of their node, onto a second one (redis); after a drop, onto the same process (memory). */
async function resumeRun(script, store, round) {
  await redis.cli("flushall");
  const keyPrefix = `hl-bench-resume-${round}:`;
  const a = await startServer(script, store, `${store}-a`, keyPrefix);
  const b = store === "redis" ? await startServer(script, store, `${store}-b`, keyPrefix) : a;
  const load = await startLoad();
  try {
    const connected = await request(
      load,
      { type: "connect", url: a.url, n: resumeN, cps },
      "connected",
      (resumeN / cps) * 1000 + 60_000,
    );
    if (connected.open < resumeN) throw new Error(`only ${connected.open} of ${resumeN} connected`);
    // Some traffic first, so sessions have history, then quiet.
    load.send({ type: "rate", perSecond: Math.min(rate, resumeN) });
    await sleep(2000);
    load.send({ type: "rate", perSecond: 0 });
    await sleep(1500);
    if (store === "redis") await kill(a.child, 0); // SIGKILL (kill's grace 0)
    const result = await request(
      load,
      { type: "resume-all", url: b.url, concurrency: 200 },
      "resumed-all",
      120_000,
    );
    return { store, round, n: resumeN, ...result };
  } finally {
    await kill(load, 0);
    await kill(a.child, 0);
    if (b !== a) await kill(b.child, 0);
  }
}

const sortedFinite = (xs) => xs.filter(Number.isFinite).sort((p, q) => p - q);
function spread(xs) {
  const s = sortedFinite(xs);
  const median =
    s.length === 0
      ? Number.NaN
      : s.length % 2
        ? s[(s.length - 1) / 2]
        : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0] ?? Number.NaN, max: s.at(-1) ?? Number.NaN };
}
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "—");
const show = (s, d = 2, unit = "") =>
  `${fmt(s.median, d)}${unit} (${fmt(s.min, d)}–${fmt(s.max, d)})`;

async function main() {
  const machine = describeMachine();
  const script = await buildHeartline("heartline-cluster", { external: ["ioredis"] });
  redis = await startRedis({ core: LOAD_CORE });
  const version = (await redis.info("server")).redis_version;
  log(
    `cluster-cost: redis-server ${version} on ${redis.url}; sizes ${sizes.join(", ")}${skippedN.length ? ` (skipped: ${skippedN.map((s) => s.n).join(", ")})` : ""}`,
  );
  const runs = [];
  const resumes = [];
  const failures = [];
  const attempt = async (what, fn) => {
    try {
      return await fn();
    } catch (error) {
      log(`  ${what} failed: ${error.message}`);
      failures.push({ what, error: String(error.message) });
      return undefined;
    }
  };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["memory", "redis"] : ["redis", "memory"];
    if (!args.only || args.only === "messages") {
      for (const n of sizes) {
        for (const store of order) {
          log(
            `cluster-cost: round ${round + 1}/${rounds}, messages, N = ${n}, ${rate} msg/s, store ${store}`,
          );
          const r = await attempt(`messages N=${n} ${store} round ${round + 1}`, () =>
            messagesRun(script, store, n, round),
          );
          if (!r) continue;
          log(
            `  ${r.echoed} echoed in ${fmt(r.seconds, 1)} s; server CPU ${fmt(r.cpu.server, 2)} s, redis CPU ${fmt(r.cpu.redis, 2)} s; ` +
              `${fmt(r.perCoreServer, 0)} msg/s per server core; latency p50 ${fmt(r.latency.p50)} p99 ${fmt(r.latency.p99)} ms; ` +
              `${fmt(r.commandsPerMessage, 3)} commands, ${fmt(r.roundTripsPerMessage, 3)} round trips per message; ` +
              `${fmt(r.bytesPerIdleSession, 0)} B per idle session, ${fmt(r.bytesPerUnackedMessage, 0)} B per unacked message`,
          );
          runs.push(r);
        }
      }
    }
    if (!args.only || args.only === "resume") {
      for (const store of order) {
        log(
          `cluster-cost: round ${round + 1}/${rounds}, resume ${resumeN} clients, store ${store}`,
        );
        const r = await attempt(`resume ${store} round ${round + 1}`, () =>
          resumeRun(script, store, round),
        );
        if (!r) continue;
        log(
          `  ${r.resumed} resumed, ${r.failed} failed in ${fmt(r.ms, 0)} ms ${JSON.stringify(r.reasons)}`,
        );
        resumes.push(r);
      }
    }
  }

  // Ratios per round (redis ÷ memory), then their spread.
  const lines = [
    `# Cost of sessions in Redis (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, redis-server ${version} (no persistence, loopback). ` +
      `Server on core ${SERVER_CORE}; load and redis-server on core ${LOAD_CORE}. X = ${INTERVAL_MS} ms. ` +
      `${rounds} rounds, alternating which store runs first; steady window ${windowMs / 1000} s after 2 s of warm-up; ` +
      `${rate} messages/s in all, each echoed. Memory: the default in-process store (\`resume: {}\`). ` +
      `Redis: \`resume: { store: createRedisSessionStore({ redis }) }\`.`,
    "",
    `Command: \`node bench/cluster-cost.mjs ${process.argv.slice(2).join(" ")}\``,
    "",
    ...(args.note ? [args.note, ""] : []),
    ...(skippedN.length
      ? skippedN.map((s) => `Not run at N = ${s.n}: ${s.refusal}`).concat([""])
      : []),
    ...(failures.length
      ? [`Failed runs: ${failures.map((f) => `${f.what} (${f.error})`).join("; ")}.`, ""]
      : []),
    "## Per run",
    "",
    "| round | N | store | echoed | msg/s per server core | msg/s per core incl. Redis | p50 ms | p99 ms | Redis commands executed / msg | commands sent / msg | store batches / msg | socket writes (round trips) / msg | B / idle session | B / unacked msg | out of order | loadavg (1 min) |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...runs.map(
      (r) =>
        `| ${r.round + 1} | ${r.n} | ${r.store} | ${r.echoed} | ${fmt(r.perCoreServer, 0)} | ${fmt(r.perCoreWithRedis, 0)} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p99)} | ` +
        `${fmt(r.commandsPerMessage, 3)} | ${fmt(r.commandsSentPerMessage, 3)} | ${fmt(r.batchesPerMessage, 3)} | ${fmt(r.roundTripsPerMessage, 3)} | ${fmt(r.bytesPerIdleSession, 0)} | ${fmt(r.bytesPerUnackedMessage, 0)} | ${r.outOfOrder} | ${r.loadavg} |`,
    ),
    "",
    "## Redis ÷ memory (median, min–max over rounds)",
    "",
    "| N | msg/s per core, server only | msg/s per core incl. Redis CPU | added latency p50, ms | added latency p99, ms | Redis commands executed / msg | commands sent / msg | round trips / msg | Redis B / idle session | Redis B / unacked msg |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const n of sizes) {
    const pairs = [];
    for (let round = 0; round < rounds; round++) {
      const m = runs.find((r) => r.n === n && r.round === round && r.store === "memory");
      const d = runs.find((r) => r.n === n && r.round === round && r.store === "redis");
      if (m && d) pairs.push({ m, d });
    }
    const s = (f) => spread(pairs.map(f));
    lines.push(
      `| ${n} | ${show(
        s(({ m, d }) => d.perCoreServer / m.perCoreServer),
        3,
        "×",
      )} | ${show(
        s(({ m, d }) => d.perCoreWithRedis / m.perCoreWithRedis),
        3,
        "×",
      )} | ` +
        `${show(s(({ m, d }) => d.latency.p50 - m.latency.p50))} | ${show(s(({ m, d }) => d.latency.p99 - m.latency.p99))} | ` +
        `${show(
          s(({ d }) => d.commandsPerMessage),
          3,
        )} | ${show(
          s(({ d }) => d.commandsSentPerMessage),
          3,
        )} | ${show(
          s(({ d }) => d.roundTripsPerMessage),
          3,
        )} | ` +
        `${show(
          s(({ d }) => d.bytesPerIdleSession),
          0,
        )} | ${show(
          s(({ d }) => d.bytesPerUnackedMessage),
          0,
        )} |`,
    );
  }
  if (resumes.length) {
    const rs = (store) => spread(resumes.filter((r) => r.store === store).map((r) => r.ms));
    const ratio = spread(
      Array.from({ length: rounds }, (_, round) => {
        const m = resumes.find((r) => r.round === round && r.store === "memory");
        const d = resumes.find((r) => r.round === round && r.store === "redis");
        return m && d ? d.ms / m.ms : Number.NaN;
      }),
    );
    lines.push(
      "",
      `## Time to resume ${resumeN} clients (ms; median, min–max)`,
      "",
      "| store | how | ms | resumed / failed per run |",
      "| --- | --- | ---: | --- |",
      `| memory | links dropped, back on the same process | ${show(rs("memory"), 0)} | ${resumes
        .filter((r) => r.store === "memory")
        .map((r) => `${r.resumed}/${r.failed}`)
        .join(", ")} |`,
      `| redis | node SIGKILLed, resumed on a second node | ${show(rs("redis"), 0)} | ${resumes
        .filter((r) => r.store === "redis")
        .map((r) => `${r.resumed}/${r.failed}`)
        .join(", ")} |`,
      `| redis ÷ memory | | ${show(ratio, 2, "×")} | |`,
    );
  }
  const text = lines.join("\n");
  process.stdout.write(`\n${text}\n`);
  const dir = here("./results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const partial = args.only || Object.entries(DEFAULTS).some(([k, v]) => args[k] !== v);
  const name = `${date}-cluster${partial ? "-partial" : ""}`;
  writeFileSync(`${dir}/${name}.md`, `${text}\n`);
  writeFileSync(
    `${dir}/${name}.json`,
    `${JSON.stringify({ date, machine, redisVersion: version, argv: process.argv.slice(2), args, skippedN, failures, runs, resumes }, null, 2)}\n`,
  );
  log(`cluster-cost: wrote bench/results/${name}.md and .json`);
}

main()
  .catch((error) => {
    log(`cluster-cost: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await killAll();
    await redis?.stop();
  });

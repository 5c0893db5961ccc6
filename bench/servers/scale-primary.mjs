// The primary of bench/scale.mjs's multi-process server: forks BENCH_WORKERS
// Heartline workers (BENCH_WORKER_SCRIPT, the bundle of heartline-scale.mjs)
// with node:cluster and relays the orchestrator's requests to them. It runs
// unbundled and imports nothing of Heartline, so what it costs is node:cluster's
// own work: with BENCH_TOPOLOGY=cluster it accepts every connection on the
// shared port and hands it to a worker, round-robin (Node's default on Linux);
// with BENCH_TOPOLOGY=ports the workers listen on ports of their own and it
// only relays.
//
// IPC with the orchestrator:
//   → {type:"ready", port, path, workers:[{index,pid,port}]}   every worker listening
//   {type:"all", id, message, answer} → {type:"all-reply", id, replies:[{index,pid,reply}]}
//   {type:"restart", index} → {type:"restarted", index, oldPid, newPid, forkMs, closeMs, closed}
//       the replacement is forked and listening before the old worker is told to close
//       (goodbye, sessions handed over), so the port never loses its capacity
//   {type:"workers"} → {type:"workers", workers:[{index,pid,port}]}
import cluster from "node:cluster";
import { performance } from "node:perf_hooks";
import { serverNodeArgs } from "../lib/procs.mjs";

const count = Number(process.env.BENCH_WORKERS ?? 2);
cluster.setupPrimary({
  exec: process.env.BENCH_WORKER_SCRIPT,
  execArgv: ["--expose-gc", ...serverNodeArgs()],
  silent: false,
});

/** slot index → { worker, port } */
const slots = new Map();

function waitFor(worker, type, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker ${worker.process.pid}: no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`worker ${worker.process.pid} exited (${code ?? signal}) before "${type}"`));
    };
    function cleanup() {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", onExit);
    }
    worker.on("message", onMessage);
    worker.once("exit", onExit);
  });
}

async function start(index) {
  const worker = cluster.fork({ BENCH_WORKER_INDEX: String(index) });
  const ready = await waitFor(worker, "ready", 30_000);
  return { worker, port: ready.port, path: ready.path };
}

const describe = () =>
  [...slots].map(([index, s]) => ({ index, pid: s.worker.process.pid, port: s.port }));

process.on("message", async (message) => {
  try {
    if (message?.type === "all") {
      const replies = await Promise.all(
        [...slots].map(async ([index, s]) => {
          const reply = waitFor(s.worker, message.answer, message.timeoutMs ?? 15_000);
          s.worker.send(message.message);
          return { index, pid: s.worker.process.pid, reply: await reply };
        }),
      );
      process.send({ type: "all-reply", id: message.id, replies });
    } else if (message?.type === "restart") {
      const old = slots.get(message.index);
      const t0 = performance.now();
      const fresh = await start(message.index);
      const forkMs = performance.now() - t0;
      slots.set(message.index, fresh);
      const t1 = performance.now();
      const closed = waitFor(old.worker, "closed", 60_000);
      old.worker.send({ type: "close" });
      const reply = await closed;
      process.send({
        type: "restarted",
        index: message.index,
        oldPid: old.worker.process.pid,
        newPid: fresh.worker.process.pid,
        port: fresh.port,
        forkMs,
        closeMs: performance.now() - t1,
        closed: reply,
      });
    } else if (message?.type === "workers") {
      process.send({ type: "workers", workers: describe() });
    }
  } catch (error) {
    process.send({ type: "failed", error: String(error?.stack ?? error) });
  }
});

// The orchestrator going away (even by SIGKILL) closes the IPC channel: take the workers along.
const stop = () => {
  for (const { worker } of slots.values()) worker.process.kill("SIGKILL");
  process.exit(0);
};
process.on("disconnect", stop);
process.on("SIGTERM", stop);

try {
  const started = await Promise.all(Array.from({ length: count }, (_, i) => start(i)));
  for (const [i, s] of started.entries()) slots.set(i, s);
  process.send({
    type: "ready",
    port: started[0].port,
    path: started[0].path,
    workers: describe(),
  });
} catch (error) {
  process.send({ type: "failed", error: String(error?.stack ?? error) });
}

// Child processes of a bench run: spawned pinned to one core, measured from
// /proc, and all killed when the run ends, whatever way it ends.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat utime and stime. */
const USER_HZ = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
/** Bytes per page of /proc/<pid>/statm. */
const PAGE_SIZE = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }));

const live = new Set();

/**
 * Spawns `node <script>` (or `runtime`'s command) pinned to `core` with `taskset -c`, so every thread
 * (main, libuv pool, GC helpers) inherits the affinity. The IPC channel
 * survives the exec because Node finds it through NODE_CHANNEL_FD. `prefix`
 * runs before taskset (prlimit, to raise the open-file limit); every wrapper
 * execs, so the child's pid is the node process's pid.
 */
export function spawnPinned({
  core,
  script,
  args = [],
  env = {},
  nodeArgs = [],
  prefix = [],
  name,
  runtime,
}) {
  // `runtime`: another executable and its arguments in place of `node <nodeArgs>` (Bun, Deno).
  const interpreter = runtime ?? [process.execPath, ...nodeArgs];
  const command = [...prefix, "taskset", "-c", String(core), ...interpreter, script];
  const child = spawn(command[0], [...command.slice(1), ...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, ...env },
  });
  child.benchName = name;
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Waits for the first IPC message of `type` from `child`, or fails after `timeoutMs`. */
export function waitForMessage(child, type, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.benchName}: no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(
        new Error(`${child.benchName} exited (${code ?? signal}) while waiting for "${type}"`),
      );
    };
    function cleanup() {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    }
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

const gone = (child) => child.exitCode !== null || child.signalCode !== null;

/**
 * Ends `child`: SIGTERM first (the bench's own scripts exit on it, which lets
 * `--cpu-prof` write its profile), SIGKILL after `graceMs`, and waits for it
 * to be gone, at most 5 s more.
 */
export async function kill(child, graceMs = 2000) {
  if (gone(child)) return;
  const exited = once(child, "exit");
  const wait = (ms) => Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
  child.kill("SIGTERM");
  await wait(graceMs);
  if (gone(child)) return;
  child.kill("SIGKILL");
  await wait(5000);
}

/** Kills every child this process has spawned. Safe to call more than once. */
export async function killAll() {
  await Promise.all([...live].map((child) => kill(child, 0)));
}

/** User + system CPU time of `pid` in seconds, all threads included. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after it start past ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / USER_HZ;
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid) {
  const statm = readFileSync(`/proc/${pid}/statm`, "utf8").split(" ");
  return Number(statm[1]) * PAGE_SIZE;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Bounds a bench script in time: past `deadlineMs` every process it started
 * is killed and it exits 2; Ctrl-C or SIGTERM kill them too (exit 130).
 * Returns the timer, for `clearTimeout` once the work is done.
 */
export function boundRun(name, deadlineMs, log) {
  const deadline = setTimeout(() => {
    log(`${name}: over its ${Math.round(deadlineMs / 1000)} s budget; killing everything`);
    void killAll().then(() => process.exit(2));
  }, deadlineMs);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => void killAll().then(() => process.exit(130)));
  }
  return deadline;
}

/** BENCH_SERVER_NODE_ARGS: V8/Node flags for the servers under test (GC experiments, e.g. --single-threaded-gc). */
export function serverNodeArgs() {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
}

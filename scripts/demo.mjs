// `pnpm demo`: builds the echo demo's page bundle, then runs the echo server
// (examples/echo/server.ts) from source with tsx, so a fresh clone needs no
// other build step. Settings come from the environment (PORT, HOST,
// HEARTBEAT_INTERVAL_MS, ALLOWED_ORIGINS, TRUST_PROXY, DRAIN_MS…; see
// examples/echo/README.md).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// tsx runs TypeScript; the heartline-source condition resolves each workspace
// package to its src/, as the tests do.
const tsx = ["--import", "tsx", "--conditions", "heartline-source"];

/** Runs `node <args>` in the repository root; resolves with its exit code. */
function run(args, onSpawn, stdio = "inherit") {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsx, ...args], { cwd: root, stdio });
    onSpawn?.(child);
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

/**
 * This process's group, on Linux (/proc): `npx pnpm demo` runs
 * npm → sh → pnpm → sh → this, all in one group led by the top process. A
 * process manager or container signals only that top process, and neither
 * npm nor pnpm passes SIGTERM on to their children; the group's leader
 * vanishing is the one sign that reaches us. Undefined elsewhere, or when
 * this process leads its own group (run directly: signals reach it).
 */
function groupLeader() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // Fields after the command name (in parentheses, which may hold spaces): state ppid pgrp …
    const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    return Number.isInteger(pgrp) && pgrp > 1 && pgrp !== process.pid ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

const built = await run(["examples/echo/build-page.ts"]);
if (built !== 0) process.exit(built);

// The server shuts down cleanly (drain if DRAIN_MS, then goodbye + 1001 to
// every client) on SIGINT or SIGTERM. Ctrl+C reaches it directly (same
// process group); a SIGTERM sent to this process only is passed on, and so is
// the end of the process that started `pnpm demo`. The IPC channel lets the
// server stop by itself if this process dies without a word (SIGKILL).
let server;
let stopping = false;
function stop(signal) {
  stopping = true;
  server?.kill(signal);
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop(signal));

const leader = groupLeader();
if (leader !== undefined) {
  const watch = setInterval(() => {
    if (!stopping && !alive(leader)) {
      process.stderr.write(`echo demo: the process that started it (${leader}) ended; stopping\n`);
      stop("SIGTERM");
      clearInterval(watch);
    }
  }, 250);
  watch.unref();
}

process.exit(
  await run(
    ["examples/echo/server.ts"],
    (child) => {
      server = child;
    },
    ["inherit", "inherit", "inherit", "ipc"],
  ),
);

// `pnpm demo` (Node), `pnpm demo:bun` and `pnpm demo:deno`: builds the echo
// demo's page bundle, then runs the echo server from source on that runtime,
// so a fresh clone needs no other build step. Node runs
// examples/echo/server.ts through tsx; Bun and Deno run
// examples/echo/server-fetch.ts with the pinned `bun` and `deno` of the
// workspace. Settings come from the environment (PORT, HOST,
// HEARTBEAT_INTERVAL_MS, ALLOWED_ORIGINS, TRUST_PROXY, DRAIN_MS…; see examples/echo/README.md).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// tsx runs TypeScript; the heartline-source condition resolves each workspace
// package to its src/, as the tests do.
const tsx = ["--import", "tsx", "--conditions", "heartline-source"];
// The executables their install scripts put in the packages; not
// node_modules/.bin/deno, a Node wrapper that would not pass SIGTERM on.
const bin = (path) => fileURLToPath(new URL(`../node_modules/${path}`, import.meta.url));

const runtime = process.argv[2] ?? "node";
/** The command that runs the echo server on `runtime`. */
const servers = {
  node: [process.execPath, [...tsx, "examples/echo/server.ts"]],
  bun: [bin("bun/bin/bun.exe"), ["--conditions=heartline-source", "examples/echo/server-fetch.ts"]],
  // --sloppy-imports: the sources import "./x.js" for "./x.ts" (TypeScript's
  // NodeNext style); npm packages come from node_modules, never the network.
  deno: [
    bin("deno/deno"),
    [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--sloppy-imports",
      "--conditions=heartline-source",
      "--node-modules-dir=manual",
      "--no-lock",
      "--quiet",
      "examples/echo/server-fetch.ts",
    ],
  ],
};
if (!(runtime in servers)) {
  process.stderr.write(`demo: unknown runtime ${runtime} (node, bun or deno)\n`);
  process.exit(2);
}

/** Runs `command args` in the repository root; resolves with its exit code. */
function run(command, args, onSpawn, stdio = "inherit") {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio });
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

const built = await run(process.execPath, [...tsx, "examples/echo/build-page.ts"]);
if (built !== 0) process.exit(built);

// The server shuts down cleanly (drain if DRAIN_MS, then goodbye + 1001 to
// every client) on SIGINT or SIGTERM. Ctrl+C reaches it directly (same
// process group); a SIGTERM sent to this process only is passed on, and so is
// the end of the process that started `pnpm demo`. On Node, the IPC channel
// lets the server stop by itself if this process dies without a word (SIGKILL).
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

const [command, args] = servers[runtime];
process.exit(
  await run(
    command,
    args,
    (child) => {
      server = child;
    },
    // Bun and Deno servers get no IPC channel (a Node-to-Node facility here).
    runtime === "node" ? ["inherit", "inherit", "inherit", "ipc"] : "inherit",
  ),
);

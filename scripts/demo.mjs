// `pnpm demo` (Node), `pnpm demo:bun` and `pnpm demo:deno`: builds the echo
// demo's page bundle, then runs the echo server from source on that runtime,
// so a fresh clone needs no other build step. Node runs
// examples/echo/server.ts through tsx; Bun and Deno run
// examples/echo/server-fetch.ts with the pinned `bun` and `deno` of the
// workspace. Settings come from the environment (PORT, HOST,
// HEARTBEAT_INTERVAL_MS, ALLOWED_ORIGINS…; see examples/echo/README.md).
import { spawn } from "node:child_process";
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
function run(command, args, onSpawn) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: "inherit" });
    onSpawn?.(child);
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const built = await run(process.execPath, [...tsx, "examples/echo/build-page.ts"]);
if (built !== 0) process.exit(built);

// The server shuts down cleanly (goodbye + 1001 to every client) on SIGINT or
// SIGTERM. Ctrl+C reaches it directly (same process group); a SIGTERM sent to
// this process only is passed on. Either way this process waits for it.
let server;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server?.kill(signal));
}
const [command, args] = servers[runtime];
process.exit(
  await run(command, args, (child) => {
    server = child;
  }),
);

// `pnpm demo`: builds the echo demo's page bundle, then runs the echo server
// (examples/echo/server.ts) from source with tsx, so a fresh clone needs no
// other build step. Settings come from the environment (PORT, HOST,
// HEARTBEAT_INTERVAL_MS, ALLOWED_ORIGINS; see examples/echo/README.md).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// tsx runs TypeScript; the heartline-source condition resolves each workspace
// package to its src/, as the tests do.
const tsx = ["--import", "tsx", "--conditions", "heartline-source"];

/** Runs `node <args>` in the repository root; resolves with its exit code. */
function run(args, onSpawn) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsx, ...args], { cwd: root, stdio: "inherit" });
    onSpawn?.(child);
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const built = await run(["examples/echo/build-page.ts"]);
if (built !== 0) process.exit(built);

// The server shuts down cleanly (goodbye + 1001 to every client) on SIGINT or
// SIGTERM. Ctrl+C reaches it directly (same process group); a SIGTERM sent to
// this process only is passed on. Either way this process waits for it.
let server;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server?.kill(signal));
}
process.exit(
  await run(["examples/echo/server.ts"], (child) => {
    server = child;
  }),
);

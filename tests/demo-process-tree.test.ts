// `npx -y pnpm@12.4.2 demo` is npm → sh → pnpm → sh → node scripts/demo.mjs →
// node examples/echo/server.ts. A process manager or a container sends
// SIGTERM to the top process only, and neither npm nor pnpm passes it on: the
// whole tree must still stop (server port closed, no process left in the
// group). Started in a process group of its own, as a service manager does.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
let group: number | undefined;
afterEach(() => {
  // Whatever is left of the tree (only if the test failed).
  if (group !== undefined) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {}
    group = undefined;
  }
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `command` as the leader of a new process group; resolves with it and the demo's port. */
async function startTree(command: string, args: string[]) {
  const top = spawn(command, args, {
    cwd: root,
    detached: true, // its own process group, led by the top process
    // REDIS_URL "": the demo's in-memory default (CI's REDIS_URL is there for the Redis tests).
    env: { ...process.env, PORT: "0", REDIS_URL: "" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  group = top.pid!;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the demo did not start in 60 s")), 60_000);
    createInterface({ input: top.stderr! }).on("line", (line) => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { top, port };
}

describe.skipIf(process.platform !== "linux")("the demo's process tree", () => {
  it("stops entirely on SIGTERM to the top process of `npx -y pnpm@12.4.2 demo`", async () => {
    const { top, port } = await startTree("npx", ["-y", "pnpm@12.4.2", "demo"]);
    expect(await portOpen(port)).toBe(true);
    const pgid = top.pid!;
    top.kill("SIGTERM");
    await until("the server's port closed", async () => !(await portOpen(port)), 15_000);
    await until("no process left in the group", () => !groupAlive(pgid), 15_000);
    group = undefined;
  }, 90_000);

  it("the server stops when scripts/demo.mjs is killed outright (SIGKILL: nothing passed on)", async () => {
    const { top, port } = await startTree(process.execPath, ["scripts/demo.mjs"]);
    const pgid = top.pid!;
    top.kill("SIGKILL");
    await until("the server's port closed", async () => !(await portOpen(port)), 15_000);
    await until("no process left in the group", () => !groupAlive(pgid), 15_000);
    group = undefined;
  }, 90_000);
});

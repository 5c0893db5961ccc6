// The heartline-conformance CLI as a user runs it (issue 27, point 4): the
// server side against the echo demo in its own process (the kit stops it with
// --pid for the goodbye case), its exit codes, and the client side through
// the @heartline/client driver.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/packages.js";

const tsx = [process.execPath, "--import", "tsx", "--conditions", "heartline-source"];
const cli = [...tsx, path.join(repoRoot, "packages/conformance/src/cli.ts")];

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file, ...rest] = [...cli, ...args];
  return new Promise((resolve) => {
    execFile(file!, rest, { cwd: repoRoot, timeout: 110_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

const ALLOWED = "https://app.example";

/**
 * `pnpm demo[:runtime]` (scripts/demo.mjs) on a free port in its own process
 * group: X = 300 ms, a 1 s resume window, one allowed origin. Resolves with
 * its port; the demo passes a SIGTERM to its pid on to the server.
 */
function startDemo(
  runtime: "node" | "bun" | "deno",
): Promise<{ port: number; pid: number; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    ["scripts/demo.mjs", ...(runtime === "node" ? [] : [runtime])],
    {
      cwd: repoRoot,
      detached: true,
      env: {
        ...process.env,
        // The demo's in-memory default: CI's REDIS_URL is there for the Redis tests.
        REDIS_URL: "",
        PORT: "0",
        HOST: "127.0.0.1",
        HEARTBEAT_INTERVAL_MS: "300",
        RESUME_WINDOW_MS: "1000",
        ALLOWED_ORIGINS: ALLOWED,
        RECONNECT_WINDOW_MIN_MS: "100",
        RECONNECT_WINDOW_MAX_MS: "500",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  started.push(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1];
      if (port) resolve({ port: Number(port), pid: child.pid!, exited });
    });
    child.once("exit", (code) => reject(new Error(`the demo exited ${code}: ${err}`)));
  });
}

describe("heartline-conformance server", () => {
  // What each runtime cannot do as on Node (packages/server/README.md): Deno
  // drops a socket that sent invalid UTF-8 itself, with no close frame, so
  // the peer sees 1006 where the contract says 1007. The kit reports it.
  // Deno, measured since the server announces its rate: 270 pings at once
  // are closed 4429 by the server (reported rate_limited) but the kit's
  // socket sees 1006 (README, "Bun and Deno").
  const deviations = {
    node: [],
    bun: [],
    deno: ["bad.invalid-utf8-1007", "rate.over-the-limit-4429"],
  };

  it.each(["node", "bun", "deno"] as const)(
    "passes against the %s echo demo (but its documented deviations), stopping it with --pid",
    async (runtime) => {
      const { port, pid, exited } = await startDemo(runtime);
      const url = `ws://127.0.0.1:${port}/ws`;
      const args = ["server", url, "--interval-ms", "300", "--echo", "--resume"];
      const settings = ["--max-payload", "65536", "--allowed-origin", ALLOWED];
      const run = await runCli([...args, ...settings, "--pid", String(pid)]);
      const lines = run.stdout.trim().split("\n");
      expect(lines[0]).toBe("TAP version 13");
      const failed = lines.flatMap((l) => /^not ok \d+ - ([^:]+):/.exec(l)?.[1] ?? []);
      expect(failed, run.stdout).toEqual(deviations[runtime]);
      const goodbye = lines.find((l) => /^ok \d+ - shutdown\.goodbye-1001/.test(l));
      expect(goodbye).toBeDefined();
      expect(goodbye).not.toMatch(/# SKIP/);
      const failures = deviations[runtime].length;
      expect(lines.at(-1)).toMatch(new RegExp(`^\\d+ passed, ${failures} failed, \\d+ skipped$`));
      expect(run.code).toBe(failures === 0 ? 0 : 1);
      expect(await exited).toBe(0);
    },
    120_000,
  );

  it("exits 1 when a case fails, and 2 on a usage error", async () => {
    const { port } = await startDemo("node");
    const url = `ws://127.0.0.1:${port}/ws`;
    const wrong = await runCli([
      "server",
      url,
      "--interval-ms",
      "400",
      "--only",
      "welcome.first-frame",
    ]);
    expect(wrong.stdout).toMatch(/^not ok 1 - welcome\.first-frame/m);
    expect(wrong.stdout.trim().split("\n").at(-1)).toBe("0 passed, 1 failed");
    expect(wrong.code).toBe(1);
    const usage = await runCli(["server", url]);
    expect(usage.stderr).toMatch(/--interval-ms is required/);
    expect(usage.code).toBe(2);
  }, 60_000);
});

describe("heartline-conformance client", () => {
  it("drives @heartline/client through drive-heartline-client", async () => {
    const only = "client.close-is-1000,client.detects-a-silent-server";
    const run = await runCli(["client", "--only", only, "--", ...cli, "drive-heartline-client"]);
    expect(run.stdout.trim().split("\n").at(-1)).toBe("2 passed, 0 failed");
    expect(run.code).toBe(0);
  }, 60_000);
});

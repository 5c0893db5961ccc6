// A throwaway redis-server for bench/cluster-cost.mjs: loopback, a random free
// port (redis-server binds it; a taken port is another try), no persistence,
// a temp dir, optionally pinned to a core. The test suite's TypeScript twin is
// tests/support/redis-server-process.ts; the bench stays plain JavaScript.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function startRedis({ core } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "hl-bench-redis-"));
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const args = [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--logfile",
      "",
    ];
    const [command, commandArgs] =
      core === undefined
        ? ["redis-server", args]
        : ["taskset", ["-c", String(core), "redis-server", ...args]];
    const child = spawn(command, commandArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    const ready = await new Promise((resolve) => {
      const onData = (d) => {
        text += d.toString();
        if (/ready to accept connections/i.test(text)) resolve(true);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", () => resolve(false));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    if (!ready) {
      if (child.exitCode === null) child.kill("SIGKILL");
      if (/address already in use/i.test(text)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start: ${text}`);
    }
    child.stdout.resume();
    child.stderr.resume();
    const cli = (...a) => run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...a]);
    return {
      port,
      pid: child.pid,
      url: `redis://127.0.0.1:${port}`,
      /** INFO <section> as { field: value } (numbers where numeric). */
      async info(section) {
        const { stdout } = await cli("info", section);
        const out = {};
        for (const line of stdout.split(/\r?\n/)) {
          const at = line.indexOf(":");
          if (at <= 0 || line.startsWith("#")) continue;
          const value = line.slice(at + 1);
          out[line.slice(0, at)] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        }
        return out;
      },
      cli,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = once(child, "exit");
          child.kill("SIGKILL");
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("redis-server: no free port in 20 tries");
}

/** Total calls over every command in INFO commandstats (`cmdstat_x: calls=…`). */
export function totalCalls(commandstats) {
  let calls = 0;
  const byCommand = {};
  for (const [key, value] of Object.entries(commandstats)) {
    if (!key.startsWith("cmdstat_")) continue;
    const n = Number(/calls=(\d+)/.exec(String(value))?.[1] ?? 0);
    calls += n;
    byCommand[key.slice("cmdstat_".length)] = n;
  }
  return { calls, byCommand };
}

// Throwaway redis-servers for the multi-process session tests (issue 25): each
// on a free loopback port of its own, in a temp dir of its own, with no
// persistence unless asked, so a test can stop it (an outage: connections
// refused), freeze it (SIGSTOP: connections hang), and start it again on the
// same port (with persistence off that is "a Redis restart without
// persistence": every key gone).
//
// redis-server cannot listen on port 0 and say which port it took, so the
// port is picked at random and redis-server binds it itself: a taken port is
// just another try (no probe-then-bind race). Cluster mode also needs the
// bus port (port + 10000) free, hence ports below 50000.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The binary; REDIS_SERVER_BIN overrides (as packages/redis/test/support/redis-env.ts). */
export const redisServerBin = process.env.REDIS_SERVER_BIN ?? "redis-server";

export interface RedisServerOptions {
  /** Extra `--name value` arguments (e.g. cluster mode). */
  readonly args?: readonly string[];
  /** AOF with `appendfsync everysec` in the temp dir (default: none, no RDB either). */
  readonly persistence?: boolean;
  /** Label in error messages. */
  readonly name?: string;
}

export interface RedisServerProcess {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  /** The running process's pid (undefined while stopped). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM (redis-server shuts down cleanly) and wait for the exit; connections are refused until `start`. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown save even with persistence on. */
  kill(): Promise<void>;
  /** Starts it again on the same port (fails if the port was taken meanwhile). */
  start(): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers (a hung Redis). */
  pause(): void;
  /** SIGCONT after `pause`. */
  unpause(): void;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

const READY = /ready to accept connections/i;
const PORT_TAKEN = /address already in use|could not create server tcp listening socket/i;

interface Spawned {
  readonly child: ChildProcess;
  readonly output: () => string;
}

/** Spawns redis-server on `port`; resolves when it accepts connections, rejects with its output otherwise. */
async function spawnOn(
  port: number,
  dir: string,
  options: RedisServerOptions,
  timeoutMs = 10_000,
): Promise<Spawned> {
  const persistence = options.persistence
    ? ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
    : ["--appendonly", "no", "--save", ""];
  const child = spawn(
    redisServerBin,
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      // The log on stdout, where readiness is read; no daemon: this process owns it.
      "--logfile",
      "",
      "--daemonize",
      "no",
      ...persistence,
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  const onData = (d: Buffer): void => {
    // Only the start-up lines are kept, so a long-lived server's log does not grow in memory.
    if (text.length < 20_000) text += d.toString();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`redis-server on ${port} did not start in ${timeoutMs} ms: ${text}`)),
        timeoutMs,
      );
      const check = (): void => {
        if (READY.test(text)) {
          clearTimeout(timer);
          child.stdout!.off("data", check);
          resolve();
        }
      };
      child.stdout!.on("data", check);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new PortOrStartError(port, `redis-server exited (${code ?? signal}): ${text}`));
      });
    });
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    throw error;
  }
  return { child, output: () => text };
}

class PortOrStartError extends Error {
  constructor(
    readonly port: number,
    message: string,
  ) {
    super(message);
  }
  get portTaken(): boolean {
    return PORT_TAKEN.test(this.message);
  }
}

/** A port in [20000, 50000): clear of the ephemeral range's usual start and with room for the cluster bus (+10000). */
const randomPort = (): number => 20_000 + Math.floor(Math.random() * 30_000);

async function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, "exit");
}

/** Starts a throwaway redis-server on a free loopback port. */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), "hl-redis-"));
  let spawned: Spawned | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 20 && spawned === undefined; attempt++) {
    port = randomPort();
    try {
      spawned = await spawnOn(port, dir, options);
    } catch (error) {
      if (error instanceof PortOrStartError && error.portTaken) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  if (spawned === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${options.name ?? "redis-server"}: no free port in 20 tries`);
  }
  let current: ChildProcess | undefined = spawned.child;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const c = current;
    current = undefined;
    if (c === undefined) return;
    // A paused server must be woken to act on SIGTERM.
    if (signal !== "SIGKILL") c.kill("SIGCONT");
    c.kill(signal);
    await waitExit(c);
  };
  const self: RedisServerProcess = {
    host: "127.0.0.1",
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return current?.pid;
    },
    get running() {
      return current !== undefined;
    },
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    async start() {
      if (current !== undefined) return;
      // The port was ours a moment ago; a few tries cover a TIME_WAIT or a slow exit.
      let lastError: unknown;
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          current = (await spawnOn(port, dir, options)).child;
          return;
        } catch (error) {
          lastError = error;
          if (!(error instanceof PortOrStartError && error.portTaken)) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw lastError;
    },
    pause() {
      current?.kill("SIGSTOP");
    },
    unpause() {
      current?.kill("SIGCONT");
    },
    async dispose() {
      await end("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(self);
  return self;
}

const live = new Set<RedisServerProcess>();

/** Kills every redis-server this process started (call in afterAll; also done at exit). */
export async function disposeAllRedisServers(): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.all(all.map((r) => r.dispose()));
}

process.once("exit", () => {
  for (const r of live) {
    const pid = r.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
});

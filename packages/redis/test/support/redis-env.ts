// Where the Redis tests find Redis. Outside CI, no REDIS_URL skips them and
// says so; under CI=true (.ci/run starts redis-server and sets it) a missing
// REDIS_URL fails them instead of skipping.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export const redisUrl: string | undefined = process.env.REDIS_URL;
export const skipRedisTests: boolean = redisUrl === undefined && process.env.CI !== "true";

if (skipRedisTests) {
  console.warn(
    "REDIS_URL is not set: the @heartline/redis tests are skipped (run `source scripts/ci-redis.sh && ci_redis_start` first).",
  );
}

/** Fails the suite under CI when Redis is missing; call in beforeAll. */
export function requireRedisUrl(): string {
  if (redisUrl === undefined)
    throw new Error("REDIS_URL is unset; CI=true requires the Redis tests");
  return redisUrl;
}

export async function connectRedis(url: string): Promise<Redis> {
  // Reconnect fast, and never hold a command for long while Redis is down.
  const r = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  r.on("error", () => {});
  if (r.status !== "ready") await once(r, "ready");
  return r;
}

/** A unique key prefix (its own hash tag) per test, so tests never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `{hl-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}}:`;
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(
      cursor,
      "MATCH",
      `${prefix.replace(/[{}*?[\]]/g, "\\$&")}*`,
      "COUNT",
      1000,
    );
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== "0");
}

/** Polls `check` until it holds or `timeoutMs` passes; a bounded wait on a condition, not a sleep. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A redis-server of the test's own, on a Unix socket in a temp dir (no port to
 * race for), so a test can stop and restart it at the same address.
 */
export interface OwnRedis {
  readonly path: string;
  /** What ioredis takes for a Unix socket: the path itself. */
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL-free stop: SIGTERM, and wait for the process to exit. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

export function ownRedis(options: { persist?: boolean } = {}): OwnRedis {
  const dir = mkdtempSync(join(tmpdir(), "hl-redis-"));
  const path = join(dir, "redis.sock");
  let child: ChildProcess | undefined;
  const self: OwnRedis = {
    path,
    url: path,
    async start() {
      const c = spawn(
        process.env.REDIS_SERVER_BIN ?? "redis-server",
        [
          "--port",
          "0",
          "--unixsocket",
          path,
          "--unixsocketperm",
          "700",
          "--dir",
          dir,
          "--save",
          "",
          // persist: an append-only file fsynced on every write, so a restart keeps everything.
          ...(options.persist === true
            ? ["--appendonly", "yes", "--appendfsync", "always"]
            : ["--appendonly", "no"]),
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      child = c;
      let out = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`redis-server did not start: ${out}`)),
          5000,
        );
        c.stdout?.on("data", (d: Buffer) => {
          out += d.toString();
          if (/ready to accept connections/i.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        c.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited (${code}): ${out}`));
        });
      });
      c.stdout?.resume();
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = once(c, "exit");
      c.kill("SIGTERM");
      await exited;
    },
    async dispose() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

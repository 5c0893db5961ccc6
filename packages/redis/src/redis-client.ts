import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

/** A connected ioredis client: a single server (or Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

const sha1 = new Map<string, string>();

function digest(source: string): string {
  let d = sha1.get(source);
  if (d === undefined) {
    d = createHash("sha1").update(source).digest("hex");
    sha1.set(source, d);
  }
  return d;
}

/**
 * EVALSHA, falling back to EVAL when Redis does not have the script cached
 * (first use, or after a restart or failover emptied the cache).
 */
export async function runScript(
  redis: RedisClient,
  source: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const sha = digest(source);
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("NOSCRIPT")) {
      return await redis.eval(source, keys.length, ...keys, ...args);
    }
    throw err;
  }
}

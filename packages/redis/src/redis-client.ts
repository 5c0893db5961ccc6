import { createHash } from "node:crypto";

/**
 * What presence needs of the Redis client it is given: the few ioredis
 * methods it calls, written out structurally. An ioredis `Redis` (a single
 * server or Sentinel) or `Cluster` fits, of any 6.x release and from any copy
 * in node_modules, as does an ioredis-compatible fork or a test double.
 *
 * Not ioredis's own types: naming them would put ioredis's declarations (and
 * their bugs, such as 6.1.0's untyped `redis-errors` import) into every
 * program that typechecks @heartline/redis's, and would tie the two
 * packages' types to one copy of ioredis (its classes have private members,
 * so two copies are not assignable to each other).
 */
export interface RedisClient {
  /** "ready" when commands can be sent; presence buffers otherwise. */
  readonly status: string;
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  exists(key: string): Promise<number>;
  smembers(key: string): Promise<string[]>;
  hvals(key: string): Promise<string[]>;
  subscribe(channel: string): Promise<unknown>;
  /** A new connection with the same options: the reader's Pub/Sub subscriber. */
  duplicate(): RedisClient;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "close" | "ready", listener: () => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  off(event: "close" | "ready", listener: () => void): unknown;
}

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

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
  /** Runs a cached Lua script by its SHA-1 (`EVALSHA`): presence's writes. */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a Lua script (`EVAL`), when Redis lacks it in its cache. */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** `EXISTS` of one key: whether a node's heartbeat is alive. */
  exists(key: string): Promise<number>;
  /** `SMEMBERS`: the registered nodes. */
  smembers(key: string): Promise<string[]>;
  /** `HVALS`: a node's or an identity's connection records. */
  hvals(key: string): Promise<string[]>;
  /** `SUBSCRIBE` to the events channel (on the reader's duplicate). */
  subscribe(channel: string): Promise<unknown>;
  /** A new connection with the same options: the reader's Pub/Sub subscriber. */
  duplicate(): RedisClient;
  /** Closes a duplicate politely (`QUIT`); presence never closes the client it is given. */
  quit(): Promise<unknown>;
  /** Closes a duplicate at once, when `quit` fails. */
  disconnect(): void;
  /** A Pub/Sub message on the duplicate. */
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  /** A connection error (ioredis reconnects by itself). */
  on(event: "error", listener: (error: Error) => void): unknown;
  /** The connection closed, or is ready again: presence buffers, then resyncs. */
  on(event: "close" | "ready", listener: () => void): unknown;
  /** Removes an `error` listener (when presence closes). */
  off(event: "error", listener: (error: Error) => void): unknown;
  /** Removes a `close` or `ready` listener (when presence closes). */
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

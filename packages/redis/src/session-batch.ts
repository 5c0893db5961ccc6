import { createHash } from "node:crypto";
import type { RedisClient } from "./redis-client.js";

/** What an ioredis pipeline offers that the session store uses (structural, as `RedisClient`). */
export interface RedisPipeline {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): unknown;
  call(command: string, ...args: (string | number)[]): unknown;
  /** One write of every queued command, one read of every reply. */
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * What the session store needs of its Redis client: presence's `RedisClient`
 * (status, scripts, the Pub/Sub duplicate, events) plus `call` and
 * `pipeline`. An ioredis `Redis` or `Cluster` (6.x) fits as it is.
 */
export interface SessionRedisClient
  extends Pick<RedisClient, "status" | "evalsha" | "eval" | "duplicate" | "on" | "off"> {
  /** Any command, by name. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** Commands written together and answered together (one round trip). */
  pipeline(): RedisPipeline;
  /**
   * True for an ioredis `Cluster`: its pipelines must stay within one slot,
   * so the store sends each command on its own in the same tick instead
   * (with `enableAutoPipelining`, ioredis batches them per shard).
   */
  readonly isCluster?: boolean;
}

/** One command of a batch: a Lua script of the store, or a plain command. */
export type BatchOp =
  | {
      readonly script: string;
      readonly keys: readonly string[];
      readonly args: readonly (string | number)[];
    }
  | { readonly command: string; readonly args: readonly (string | number)[] };

/** A command's reply, or the error Redis (or the link) gave it. */
export type BatchReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: Error };

const shas = new Map<string, string>();

export function sha1Of(source: string): string {
  let d = shas.get(source);
  if (d === undefined) {
    d = createHash("sha1").update(source).digest("hex");
    shas.set(source, d);
  }
  return d;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

async function single(redis: SessionRedisClient, op: BatchOp, useEval: boolean): Promise<unknown> {
  if ("command" in op) return redis.call(op.command, ...op.args);
  const n = op.keys.length;
  return useEval
    ? redis.eval(op.script, n, ...op.keys, ...op.args)
    : redis.evalsha(sha1Of(op.script), n, ...op.keys, ...op.args);
}

/** Counts of what the store sent, for its stats and the round-trip test. */
export interface BatchCounters {
  /** Batches sent (a pipeline on one Redis: one round trip each). */
  batches: number;
  /** Commands in them. */
  commands: number;
}

/**
 * Sends every op in one round trip and returns each reply in order (never
 * throws for one command's error; throws when the whole batch could not be
 * sent). On one Redis: one pipeline (EVALSHA for scripts). On a Cluster: each
 * op on its own, all in the same tick. A script Redis did not have cached
 * (first use, or after a restart or failover) is sent again with EVAL: the
 * only case of a second round trip. Every script is safe to run again.
 */
export async function runBatch(
  redis: SessionRedisClient,
  ops: readonly BatchOp[],
  counters: BatchCounters,
): Promise<BatchReply[]> {
  if (ops.length === 0) return [];
  counters.batches++;
  counters.commands += ops.length;
  let replies: BatchReply[];
  if (redis.isCluster === true || typeof redis.pipeline !== "function") {
    replies = await Promise.all(
      ops.map((op) =>
        single(redis, op, false).then(
          (value): BatchReply => ({ ok: true, value }),
          (error: Error): BatchReply => ({ ok: false, error }),
        ),
      ),
    );
  } else {
    const p = redis.pipeline();
    for (const op of ops) {
      if ("command" in op) p.call(op.command, ...op.args);
      else p.evalsha(sha1Of(op.script), op.keys.length, ...op.keys, ...op.args);
    }
    const out = await p.exec();
    if (out === null) throw new Error("the pipeline was discarded");
    replies = out.map(([error, value]) =>
      error === null ? { ok: true, value } : { ok: false, error },
    );
  }
  const missing = ops
    .map((op, i) =>
      "script" in op && !replies[i]!.ok && isNoScript((replies[i] as { error: Error }).error)
        ? i
        : -1,
    )
    .filter((i) => i >= 0);
  if (missing.length > 0) {
    counters.batches++;
    counters.commands += missing.length;
    await Promise.all(
      missing.map(async (i) => {
        try {
          replies[i] = { ok: true, value: await single(redis, ops[i]!, true) };
        } catch (error) {
          replies[i] = { ok: false, error: error as Error };
        }
      }),
    );
  }
  return replies;
}

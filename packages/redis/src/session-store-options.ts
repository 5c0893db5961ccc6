import { SessionStoreError, SessionStoreErrorCode } from "./errors.js";
import type { SessionRedisClient } from "./session-batch.js";

/**
 * Defaults of `createRedisSessionStore`. Read with `??`, so 0 is never
 * silently replaced (and is refused where it makes no sense).
 *
 * - `keyPrefix` "heartline:sessions:": no `{hash tag}` in it, so sessions
 *   spread over a cluster's shards (each session's keys carry their own tag).
 * - `nodeTtlMs` 10 000 (as presence): a node whose lease was not renewed for
 *   this long is dead; survivors adopt its sessions.
 * - `nodeHeartbeatMs`: `nodeTtlMs / 3` when not given (two renewals may fail
 *   before the lease lapses). The liveness period: a dead node's sessions are
 *   adopted between `nodeTtlMs − nodeHeartbeatMs` and `nodeTtlMs +
 *   nodeHeartbeatMs` after it died (6.7–13.3 s with the defaults).
 * - `retryMs` 250: how soon a failed batch is tried again while the client
 *   says it is connected (a reconnect retries at once).
 * - `adoptBatch` 200: sessions adopted per script batch when sweeping a dead
 *   node's index (bounds one batch's size, not the total).
 */
export const redisSessionStoreDefaults = Object.freeze({
  keyPrefix: "heartline:sessions:",
  nodeTtlMs: 10_000,
  retryMs: 250,
  adoptBatch: 200,
});

/** `createRedisSessionStore`'s one options object. */
export interface RedisSessionStoreOptions {
  /**
   * A connected ioredis `Redis` or `Cluster` (structurally: `SessionRedisClient`).
   * The store never closes it; it opens one `duplicate()` for its Pub/Sub
   * notices and closes that on `shutdown`. Recommended: `maxRetriesPerRequest: 1`
   * (a batch in flight when Redis goes away fails soon, and the store holds
   * and retries it itself), and on a `Cluster` `enableAutoPipelining: true`.
   */
  readonly redis: SessionRedisClient;
  /** This process's id in the cluster (unique; the `nodeId` of every owner). Default `hostname:pid:random`. */
  readonly nodeId?: string | undefined;
  /** Prefix of every key and channel. Default `redisSessionStoreDefaults.keyPrefix`. */
  readonly keyPrefix?: string | undefined;
  /** A node's lease: silent this long, it is dead. Default 10 000. */
  readonly nodeTtlMs?: number | undefined;
  /** How often a node renews its lease and looks for dead nodes. Default `nodeTtlMs / 3`; below `nodeTtlMs`. */
  readonly nodeHeartbeatMs?: number | undefined;
  /** Retry period of failed batches while connected. Default 250. */
  readonly retryMs?: number | undefined;
  /** Sessions per adoption batch. Default 200. */
  readonly adoptBatch?: number | undefined;
  /** Store errors (failed batches, unreadable records, a lapsed lease): each a `SessionStoreError`. */
  readonly onError?: ((error: SessionStoreError) => void) | undefined;
}

export interface ResolvedStoreOptions {
  readonly keyPrefix: string;
  readonly nodeTtlMs: number;
  readonly nodeHeartbeatMs: number;
  readonly retryMs: number;
  readonly adoptBatch: number;
}

function positive(name: string, value: number, integer = false): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new SessionStoreError(
      SessionStoreErrorCode.InvalidOption,
      `${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`,
    );
  }
  return value;
}

export function resolveStoreOptions(options: RedisSessionStoreOptions): ResolvedStoreOptions {
  if (typeof options?.redis?.evalsha !== "function") {
    throw new SessionStoreError(
      SessionStoreErrorCode.InvalidOption,
      "redis must be a Redis client",
    );
  }
  const nodeTtlMs = positive("nodeTtlMs", options.nodeTtlMs ?? redisSessionStoreDefaults.nodeTtlMs);
  const nodeHeartbeatMs = positive(
    "nodeHeartbeatMs",
    options.nodeHeartbeatMs ?? Math.max(1, Math.floor(nodeTtlMs / 3)),
  );
  if (nodeHeartbeatMs >= nodeTtlMs) {
    throw new SessionStoreError(
      SessionStoreErrorCode.InvalidOption,
      `nodeHeartbeatMs (${nodeHeartbeatMs}) must be below nodeTtlMs (${nodeTtlMs})`,
    );
  }
  const keyPrefix = options.keyPrefix ?? redisSessionStoreDefaults.keyPrefix;
  if (typeof keyPrefix !== "string") {
    throw new SessionStoreError(SessionStoreErrorCode.InvalidOption, "keyPrefix must be a string");
  }
  return Object.freeze({
    keyPrefix,
    nodeTtlMs,
    nodeHeartbeatMs,
    retryMs: positive("retryMs", options.retryMs ?? redisSessionStoreDefaults.retryMs),
    adoptBatch: positive(
      "adoptBatch",
      options.adoptBatch ?? redisSessionStoreDefaults.adoptBatch,
      true,
    ),
  });
}

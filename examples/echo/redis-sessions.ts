// The demo's sessions and presence in Redis (issue 25), when REDIS_URL is
// set: resumable sessions live in `createRedisSessionStore`, so two demo
// processes on different ports share them and a client resumes on either
// (after a crash of the other too); presence follows the sessions. Unset,
// the demo keeps its sessions in memory, as before (this module is not used).
import {
  attachPresence,
  createRedisSessionStore,
  type Presence,
  type RedisSessionStore,
} from "@heartline/redis";
import type { HeartlineServer } from "@heartline/server";
import { Redis } from "ioredis";

export interface RedisSessions {
  /** Give this as the server's `resume.store`. */
  readonly store: RedisSessionStore<unknown, undefined>;
  /** This process's id in the cluster (sessions and presence share it). */
  readonly nodeId: string;
  /**
   * Resolves once the Redis client is `ready`, or after `ms` (then sessions
   * are plain v1 until it is: the store's outage rule). The demo waits for it
   * before it listens, so its first clients get resumable sessions too.
   */
  ready(ms: number): Promise<void>;
  /** Attaches presence to the server (after `createServer`). */
  attach(heartline: HeartlineServer): Promise<Presence>;
  /** After `heartline.close()` (which hands the sessions over): presence, then the link. */
  close(): Promise<void>;
}

/**
 * Connects to `url` (e.g. `redis://127.0.0.1:6379`); `nodeId` unset: hostname,
 * pid and a random suffix. `windowMs`: the server's resume window, so that a
 * lost node's sessions stay online in presence until a survivor adopts them.
 */
export function redisSessions(
  url: string,
  nodeId: string | undefined,
  windowMs: number,
): RedisSessions {
  // A command waits at most one retry while Redis is away: the store holds
  // and retries its own batches, and serving goes on (new sessions plain v1).
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on("error", (error: Error) => console.error(`echo demo: redis ${url}: ${error.message}`));
  // The demo authenticates nobody: `auth` is undefined, as the server's third type parameter says.
  const store = createRedisSessionStore<unknown, undefined>({
    redis,
    ...(nodeId === undefined ? {} : { nodeId }),
    onError: (error) => console.error(`echo demo: session store ${error.code}: ${error.message}`),
  });
  // On stderr with the other notes (stdout is the JSON lines); the host only, never a password in the URL.
  console.error(
    `echo demo: sessions and presence in Redis at ${new URL(url).host}, as node ${store.nodeId}`,
  );
  let presence: Presence | undefined;
  return {
    store,
    nodeId: store.nodeId,
    async ready(ms) {
      if (redis.status === "ready") return;
      // Not events.once: it rejects on the client's "error" events, which are retried.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          redis.off("ready", onReady);
          console.error(
            `echo demo: redis ${new URL(url).host} not ready after ${ms} ms; sessions are plain v1 until it is`,
          );
          resolve();
        }, ms);
        const onReady = (): void => {
          clearTimeout(timer);
          resolve();
        };
        redis.once("ready", onReady);
      });
    },
    async attach(heartline) {
      presence = await attachPresence(heartline, {
        redis,
        nodeId: store.nodeId,
        // The demo has no login: a session is its own identity.
        identify: (conn) => conn.sessionId,
        // Sessions outlive this process: a lost node's stay online for a survivor to adopt.
        orphanWindowMs: windowMs,
        on: {
          error: (error) => console.error(`echo demo: presence ${error.code}: ${error.message}`),
        },
      });
      return presence;
    },
    async close() {
      await presence?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

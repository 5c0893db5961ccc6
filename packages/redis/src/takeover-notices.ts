import { SessionStoreErrorCode } from "./errors.js";
import type { RedisClient } from "./redis-client.js";
import type { SessionRedisClient } from "./session-batch.js";
import type { SessionKeys } from "./session-keys.js";

/** A notice between nodes, on Pub/Sub. */
export type Notice =
  /** Session `id` was taken (resumed) at epoch `ep` elsewhere: drop an older copy here (4409 if attached). */
  | { readonly t: "taken"; readonly id: string; readonly ep: number }
  /** A node left (shutdown): adopt its sessions now instead of at its lease's end. */
  | { readonly t: "left"; readonly own: string };

export function takenNotice(id: string, epoch: number): string {
  return JSON.stringify({ t: "taken", id, ep: epoch });
}

export function leftNotice(ownerKey: string): string {
  return JSON.stringify({ t: "left", own: ownerKey });
}

function parse(message: string): Notice | undefined {
  try {
    const n = JSON.parse(message) as Partial<Record<string, unknown>>;
    if (n.t === "taken" && typeof n.id === "string" && typeof n.ep === "number") {
      return { t: "taken", id: n.id, ep: n.ep };
    }
    if (n.t === "left" && typeof n.own === "string") return { t: "left", own: n.own };
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}

/**
 * The store's Pub/Sub link: a `duplicate()` of its client subscribed to this
 * node's channel (takeover notices) and the nodes' channel (a node leaving).
 * Pub/Sub is at most once; a missed notice costs only time: a takeover is
 * made good by fencing (the old holder's next write is refused), a leaving
 * node by its lease (ended at shutdown, seen at the next heartbeat).
 */
export class TakeoverNotices {
  #sub: RedisClient | undefined;

  constructor(
    private readonly redis: SessionRedisClient,
    private readonly keys: SessionKeys,
    private readonly nodeId: string,
    private readonly onNotice: (notice: Notice) => void,
    private readonly report: (
      code: SessionStoreErrorCode,
      message: string,
      cause?: unknown,
    ) => void,
  ) {}

  open(): void {
    const sub = this.redis.duplicate();
    this.#sub = sub;
    const channels = [this.keys.nodeChannel(this.nodeId), this.keys.nodesChannel];
    const join = (): void => {
      // At every "ready" (idempotent: ioredis also resubscribes by itself), so a
      // subscription that failed while Redis was away is made when it comes.
      void (async () => {
        try {
          for (const channel of channels) await sub.subscribe(channel);
        } catch (error) {
          this.report(
            SessionStoreErrorCode.RedisWrite,
            "subscribing to takeover notices failed; tried again when Redis is ready",
            error,
          );
        }
      })();
    };
    sub.on("error", () => {
      // ioredis reconnects by itself; what matters is reported by `join`.
    });
    sub.on("message", (_channel, message) => {
      const notice = parse(message);
      if (notice !== undefined) this.onNotice(notice);
    });
    sub.on("ready", join);
    if (sub.status === "ready") join();
  }

  async close(): Promise<void> {
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub === undefined) return;
    try {
      await sub.quit();
    } catch {
      sub.disconnect();
    }
  }
}

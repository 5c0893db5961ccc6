import type { Clock, TimerHandle } from "@heartline/protocol";
import { SessionStoreErrorCode } from "./errors.js";
import type { BatchOp, BatchReply } from "./session-batch.js";
import type { SessionKeys } from "./session-keys.js";
import { nodeForgetScript, nodeLeaveScript, nodeTickScript } from "./session-scripts.js";

/** What the lease asks of the store that runs it. */
export interface LeaseHost {
  readonly keys: SessionKeys;
  readonly clock: Clock;
  readonly nodeTtlMs: number;
  readonly nodeHeartbeatMs: number;
  readonly adoptBatch: number;
  /** The owner key sessions are recorded under now (`nodeId#incarnation`). */
  ownerKey(): string;
  /** The TTL of every key of the store (a window, a tombstone window, two leases). */
  ttlMs(): number;
  /** Whether the client can send now. */
  linkUp(): boolean;
  /** One round trip. */
  batch(ops: readonly BatchOp[]): Promise<BatchReply[]>;
  command(name: string, ...args: (string | number)[]): Promise<unknown>;
  /** Extra ops to ride on a heartbeat (the TTL refresh of idle attached sessions). */
  heartbeatOps(now: number): BatchOp[];
  /** The adopt script for one session id of `dead`. */
  adoptOp(id: string, dead: string, now: number): BatchOp;
  /** The adopt script's answer for `id` (won or lost); the host builds and reports the session. */
  adopted(id: string, reply: BatchReply, now: number): BatchOp[];
  /** This node's lease had lapsed: the host gives up its sessions and picks a new owner key. */
  leaseLost(): Promise<void>;
  report(code: SessionStoreErrorCode, message: string, cause?: unknown): void;
}

/**
 * This node's lease in the node registry, and the adoption of dead nodes'
 * sessions (issue 25, point 5).
 *
 * Every `nodeHeartbeatMs` one script renews the lease (`now + nodeTtlMs`,
 * on this node's clock) and lists the owners whose lease has lapsed. For
 * each, the sessions in its index are offered to the adopt script in
 * batches; the script moves a session only while the dead owner still holds
 * it, so any number of survivors sweeping the same index adopt each session
 * once. When the index is empty the dead owner is forgotten.
 *
 * Its own lease, not presence's heartbeat key: judged on the injected clock
 * (exact fake-clock tests) and per incarnation (a node presumed dead that
 * comes back never has its new sessions swept with its old ones).
 */
export class NodeLease {
  #registered = false;
  #ticking = false;
  #stopped = false;
  #timer: TimerHandle | undefined;
  readonly #sweeping = new Set<string>();

  constructor(private readonly host: LeaseHost) {}

  get registered(): boolean {
    return this.#registered;
  }

  /** Starts the heartbeat timer (registration waits for the link: `ensureRegistered`). */
  start(): void {
    const beat = (): void => {
      if (this.#stopped) return;
      this.#timer = this.host.clock.setTimeout(beat, this.host.nodeHeartbeatMs);
      void this.tick();
    };
    this.#timer = this.host.clock.setTimeout(beat, this.host.nodeHeartbeatMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The first registration (at start, or at the first "ready" when Redis was not there yet). */
  async ensureRegistered(): Promise<void> {
    if (this.#registered || this.#stopped) return;
    try {
      await this.register();
    } catch (error) {
      this.host.report(SessionStoreErrorCode.RedisWrite, "node registration failed", error);
    }
  }

  /** Takes a lease under the host's current owner key. */
  async register(): Promise<void> {
    const h = this.host;
    const [r] = await h.batch([
      {
        script: nodeTickScript,
        keys: [h.keys.registry],
        args: [h.ownerKey(), h.clock.now(), h.nodeTtlMs, "start", h.ttlMs()],
      },
    ]);
    if (!r!.ok) throw r!.error;
    this.#registered = true;
  }

  /** Renews the lease and sweeps every dead owner found. One at a time. */
  async tick(): Promise<void> {
    const h = this.host;
    if (this.#ticking || this.#stopped || !this.#registered || !h.linkUp()) return;
    this.#ticking = true;
    try {
      const now = h.clock.now();
      const replies = await h.batch([
        {
          script: nodeTickScript,
          keys: [h.keys.registry],
          args: [h.ownerKey(), now, h.nodeTtlMs, "tick", h.ttlMs()],
        },
        ...h.heartbeatOps(now),
      ]);
      if (!replies[0]!.ok) throw replies[0]!.error;
      const v = replies[0]!.value as unknown[];
      if (Number(v[0]) === -1) {
        await h.leaseLost();
        return;
      }
      for (const dead of v.slice(1)) void this.#sweep(String(dead));
    } catch (error) {
      h.report(SessionStoreErrorCode.RedisWrite, "node heartbeat failed", error);
    } finally {
      this.#ticking = false;
    }
  }

  /** Ends the lease now (shutdown): the next survivor heartbeat adopts this node's sessions. */
  leaveOp(): BatchOp {
    return {
      script: nodeLeaveScript,
      keys: [this.host.keys.registry],
      args: [this.host.ownerKey()],
    };
  }

  async #sweep(dead: string): Promise<void> {
    const h = this.host;
    if (this.#sweeping.has(dead) || this.#stopped) return;
    this.#sweeping.add(dead);
    try {
      const index = h.keys.index(dead);
      const ids = ((await h.command("SMEMBERS", index)) as string[] | null) ?? [];
      for (let i = 0; i < ids.length; i += h.adoptBatch) {
        const chunk = ids.slice(i, i + h.adoptBatch);
        const now = h.clock.now();
        const replies = await h.batch(chunk.map((id) => h.adoptOp(id, dead, now)));
        const after: BatchOp[] = [];
        chunk.forEach((id, k) => {
          after.push(...h.adopted(id, replies[k]!, now));
        });
        after.push({ command: "SREM", args: [index, ...chunk] });
        await h.batch(after);
      }
      if (Number(await h.command("SCARD", index)) === 0) {
        await h.batch([
          { script: nodeForgetScript, keys: [h.keys.registry], args: [dead, h.clock.now()] },
        ]);
      }
    } catch (error) {
      h.report(SessionStoreErrorCode.RedisWrite, `adopting the sessions of ${dead} failed`, error);
    } finally {
      this.#sweeping.delete(dead);
    }
  }
}

import type { PresenceConnectEvent, PresenceDisconnectEvent, PresenceEntry } from "./events.js";

/** A presence change waiting to be written. */
export type PendingOp =
  | { readonly kind: "connect"; readonly event: PresenceConnectEvent }
  | { readonly kind: "disconnect"; readonly event: PresenceDisconnectEvent }
  /** A connection carrying a resumable session: record the session here, wherever it was. */
  | { readonly kind: "session"; readonly entry: PresenceEntry }
  /** A resumable session ended (`sessionEnd`): its one `disconnect`, cluster-wide. */
  | {
      readonly kind: "sessionEnd";
      readonly sessionId: string;
      readonly reason: string;
      readonly at: number;
    }
  /** This node adopted a lost node's session (`sessionAdopted`). */
  | {
      readonly kind: "adopt";
      readonly sessionId: string;
      readonly from: string;
      readonly at: number;
      /** Set when the session ended or moved on here before the adoption was written. */
      cancelled: boolean;
    }
  /** Make Redis hold exactly `snapshot`: the node's connections when the resync was asked for. */
  | { readonly kind: "resync"; readonly snapshot: readonly PresenceEntry[] };

/** Every change but a resync. */
export type PendingChange = Exclude<PendingOp, { kind: "resync" }>;

/**
 * The node's ordered queue of presence writes, bounded while Redis cannot take
 * them. Past `maxBuffered` changes the oldest change is dropped (a resync
 * afterwards puts the set right; only that change's event is lost). At most one
 * resync waits at a time: asking again replaces it with a fresher snapshot at
 * the tail, which subsumes the older one.
 */
export class PendingChanges {
  #ops: PendingOp[] = [];
  #head = 0;
  #changes = 0;
  readonly #maxBuffered: number;

  constructor(maxBuffered: number) {
    this.#maxBuffered = maxBuffered;
  }

  /** Changes waiting (a resync is not counted). */
  get size(): number {
    return this.#changes;
  }

  get empty(): boolean {
    return this.#head >= this.#ops.length;
  }

  /** The oldest op. */
  peek(): PendingOp | undefined {
    // Left in place while it is written; `done(op)` removes it.
    return this.#ops[this.#head];
  }

  /** Removes `op` after it was written, if it is still the oldest (it always is: see push). */
  done(op: PendingOp): void {
    if (this.#ops[this.#head] !== op) return;
    if (op.kind !== "resync") this.#changes--;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#ops.length) {
      this.#ops = this.#ops.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Appends a change; returns how many older changes were dropped to make room (0 or 1). */
  push(op: PendingChange): number {
    let dropped = 0;
    if (this.#changes >= this.#maxBuffered) {
      // The head may be in flight, so it is never dropped: the oldest change after it is.
      let i = this.#head + 1;
      while (i < this.#ops.length && this.#ops[i]?.kind === "resync") i++;
      if (i < this.#ops.length) {
        this.#ops.splice(i, 1);
        this.#changes--;
        dropped = 1;
      }
    }
    this.#ops.push(op);
    this.#changes++;
    return dropped;
  }

  /** Queues a resync at the tail, replacing any resync still waiting. */
  pushResync(snapshot: readonly PresenceEntry[]): void {
    const i = this.#ops.findIndex((o, idx) => idx > this.#head && o.kind === "resync");
    if (i >= 0) this.#ops.splice(i, 1);
    this.#ops.push({ kind: "resync", snapshot });
  }
}

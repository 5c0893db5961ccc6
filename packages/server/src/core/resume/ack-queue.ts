import type { Clock, TimerHandle } from "@heartline/protocol";
import { Fifo } from "../fifo.js";

/** What the queue needs from each entry (a connection): plain fields, no object per ack. */
export interface AckOwing {
  /** The entry is in the queue; written by the queue and by the entry when it acks early. */
  ackQueued: boolean;
  /** Its time came: send the ack it owes, if it still owes one. */
  flushAck(): void;
}

/**
 * "Acknowledge at the latest `delayMs` after a message arrived", for every
 * connection of a server under one clock timer (PROTOCOL.md §7.4).
 *
 * A FIFO of (entry, due) in arrival order, which is due order since every
 * entry waits the same `delayMs`. A connection joins once, at its first
 * unacknowledged message (`add` is a no-op while it is queued), so
 * receiving costs one flag test per message and nothing else; no timer and
 * no object per message. A connection that acks sooner (at 32) clears its
 * flag and its old slot is skipped; if it was queued again meanwhile, the
 * old slot flushes it early, which the contract allows ("at the latest").
 */
export class AckQueue<T extends AckOwing> {
  readonly #clock: Clock;
  readonly #delayMs: number;
  // One FIFO in two columns: the entry and when it is due.
  readonly #entries = new Fifo<T | undefined>(undefined);
  readonly #due = new Fifo<number>(0);
  #handle: TimerHandle | undefined;
  readonly #fire = (): void => {
    this.#handle = undefined;
    const now = this.#clock.now();
    const entries = this.#entries;
    const due = this.#due;
    while (entries.size > 0 && due.peek()! <= now) {
      const entry = entries.shift()!;
      due.shift();
      if (entry.ackQueued) {
        entry.ackQueued = false;
        entry.flushAck();
      }
    }
    this.#arm(now);
  };

  constructor(clock: Clock, delayMs: number) {
    this.#clock = clock;
    this.#delayMs = delayMs;
  }

  /** Slots held (queued entries and skipped ones not yet reached). */
  get size(): number {
    return this.#entries.size;
  }

  /** `entry` owes an ack from now: it is flushed at the latest `delayMs` from now. No-op if queued. */
  add(entry: T): void {
    if (entry.ackQueued) return;
    entry.ackQueued = true;
    const now = this.#clock.now();
    this.#entries.push(entry);
    this.#due.push(now + this.#delayMs);
    if (this.#handle === undefined) this.#arm(now);
  }

  /** Stops the timer (the server is gone); queued entries are dropped unflushed. */
  clear(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    for (const entry of this.#entries.clear()) entry!.ackQueued = false;
    this.#due.clear();
  }

  #arm(now: number): void {
    if (this.#handle !== undefined || this.#entries.size === 0) return;
    this.#handle = this.#clock.setTimeout(this.#fire, Math.max(0, this.#due.peek()! - now));
  }
}

import type { Clock, TimerHandle } from "@heartline/protocol";

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
  #entries: (T | undefined)[] = [];
  #due: number[] = [];
  #head = 0;
  #handle: TimerHandle | undefined;
  readonly #fire = (): void => {
    this.#handle = undefined;
    const now = this.#clock.now();
    const entries = this.#entries;
    const due = this.#due;
    let head = this.#head;
    while (head < entries.length && due[head]! <= now) {
      const entry = entries[head]!;
      entries[head] = undefined;
      head++;
      if (entry.ackQueued) {
        entry.ackQueued = false;
        entry.flushAck();
      }
    }
    if (head === entries.length) {
      this.#entries = [];
      this.#due = [];
      head = 0;
    } else if (head >= 64 && head * 2 >= entries.length) {
      entries.splice(0, head);
      due.splice(0, head);
      head = 0;
    }
    this.#head = head;
    this.#arm(now);
  };

  constructor(clock: Clock, delayMs: number) {
    this.#clock = clock;
    this.#delayMs = delayMs;
  }

  /** Slots held (queued entries and skipped ones not yet reached). */
  get size(): number {
    return this.#entries.length - this.#head;
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
    for (let i = this.#head; i < this.#entries.length; i++) this.#entries[i]!.ackQueued = false;
    this.#entries = [];
    this.#due = [];
    this.#head = 0;
  }

  #arm(now: number): void {
    if (this.#handle !== undefined || this.#head >= this.#entries.length) return;
    this.#handle = this.#clock.setTimeout(this.#fire, Math.max(0, this.#due[this.#head]! - now));
  }
}

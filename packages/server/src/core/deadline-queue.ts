import type { Clock, TimerHandle } from "@heartline/protocol";

/**
 * What the queue needs from each entry. Plain fields, read and written by the
 * queue, so an entry costs the queue two array slots and no object of its own.
 */
export interface Deadlined {
  /** When the entry was last heard from, in clock time: its real deadline is this + `timeoutMs`. */
  lastHeardAt: number;
  /** The entry's position in the heap, or -1 when it is not queued. Written by the queue only. */
  queueSlot: number;
  /** The real deadline passed: the entry has been taken out of the queue before this is called. */
  deadlinePassed(): void;
}

/**
 * "Nothing heard for `timeoutMs`" for many entries under one clock timer.
 *
 * A binary min-heap on deadline, kept as two parallel arrays (deadlines and
 * entries), with each entry's heap slot stored on the entry for O(log n)
 * removal. Hearing from an entry only sets its `lastHeardAt`: no heap work and
 * no allocation. The heap's deadline for an entry is a lower bound; when the
 * one timer fires at `now`, each entry due by then is checked against its real
 * deadline (`lastHeardAt + timeoutMs`) and either pushed back with it or
 * reported. So a connection pinging every X costs about one sift per timeout
 * period instead of one timer per connection.
 */
export class DeadlineQueue<T extends Deadlined> {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #deadlines: number[] = [];
  readonly #entries: T[] = [];
  #handle: TimerHandle | undefined;
  /** The deadline the timer is armed for (meaningful while `#handle` is set). */
  #armedFor = 0;
  /** The timer fired and the verdict waits for `afterIO` (no timer is armed meanwhile). */
  #deciding = false;
  /**
   * The timer fired: decide after the I/O already waiting has been read, so a
   * ping that arrived while the loop was busy (the timers phase runs before
   * the poll phase) counts before anyone is judged silent.
   */
  readonly #fire = (): void => {
    this.#handle = undefined;
    const afterIO = this.#clock.afterIO;
    if (afterIO === undefined) {
      this.#decide();
      return;
    }
    this.#deciding = true;
    afterIO.call(this.#clock, this.#decide);
  };
  readonly #decide = (): void => {
    this.#deciding = false;
    const clock = this.#clock;
    let now = clock.now();
    const deadlines = this.#deadlines;
    const entries = this.#entries;
    // Re-read the top each turn: a handler may add or remove entries.
    while (entries.length > 0) {
      if (deadlines[0]! > now) {
        // A long batch may have run into the next deadlines: take them now rather than a loop turn later.
        now = clock.now();
        if (deadlines[0]! > now) break;
      }
      const entry = entries[0]!;
      const due = entry.lastHeardAt + this.#timeoutMs;
      if (due > now) {
        // Heard from since it was queued: push it back with its real deadline.
        deadlines[0] = due;
        this.#siftDown(0);
      } else {
        this.#removeAt(0);
        entry.deadlinePassed();
      }
    }
    this.#arm();
  };

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** Entries queued. */
  get size(): number {
    return this.#entries.length;
  }

  /** Queues `entry` with the deadline `entry.lastHeardAt + timeoutMs`. No-op if already queued. */
  add(entry: T): void {
    if (entry.queueSlot !== -1) return;
    const slot = this.#entries.length;
    this.#entries.push(entry);
    this.#deadlines.push(entry.lastHeardAt + this.#timeoutMs);
    entry.queueSlot = slot;
    this.#siftUp(slot);
    if (entry.queueSlot === 0) this.#arm();
  }

  /** Takes `entry` out (O(log n)); no-op if it is not queued. Stops the timer when none are left. */
  remove(entry: T): void {
    const slot = entry.queueSlot;
    if (slot === -1) return;
    this.#removeAt(slot);
    // An earlier timer than needed is left armed: it fires, finds nothing due, re-arms.
    if (this.#entries.length === 0) this.#arm();
  }

  // ---- internals ----

  /** Arms the one timer for the earliest deadline, unless it already fires at or before it. */
  #arm(): void {
    // A verdict is pending: it arms the timer itself when done.
    if (this.#deciding) return;
    const clock = this.#clock;
    if (this.#entries.length === 0) {
      if (this.#handle !== undefined) {
        clock.clearTimeout(this.#handle);
        this.#handle = undefined;
      }
      return;
    }
    const next = this.#deadlines[0]!;
    if (this.#handle !== undefined) {
      if (this.#armedFor <= next) return;
      clock.clearTimeout(this.#handle);
    }
    this.#armedFor = next;
    this.#handle = clock.setTimeout(this.#fire, Math.max(0, next - clock.now()));
  }

  #removeAt(slot: number): void {
    const deadlines = this.#deadlines;
    const entries = this.#entries;
    entries[slot]!.queueSlot = -1;
    const lastDeadline = deadlines.pop()!;
    const lastEntry = entries.pop()!;
    if (slot === entries.length) return;
    deadlines[slot] = lastDeadline;
    entries[slot] = lastEntry;
    lastEntry.queueSlot = slot;
    if (slot > 0 && lastDeadline < deadlines[(slot - 1) >> 1]!) this.#siftUp(slot);
    else this.#siftDown(slot);
  }

  #siftUp(slot: number): void {
    const deadlines = this.#deadlines;
    const entries = this.#entries;
    const deadline = deadlines[slot]!;
    const entry = entries[slot]!;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      const parentDeadline = deadlines[parent]!;
      if (parentDeadline <= deadline) break;
      deadlines[slot] = parentDeadline;
      const parentEntry = entries[parent]!;
      entries[slot] = parentEntry;
      parentEntry.queueSlot = slot;
      slot = parent;
    }
    deadlines[slot] = deadline;
    entries[slot] = entry;
    entry.queueSlot = slot;
  }

  #siftDown(slot: number): void {
    const deadlines = this.#deadlines;
    const entries = this.#entries;
    const size = entries.length;
    const deadline = deadlines[slot]!;
    const entry = entries[slot]!;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= size) break;
      if (child + 1 < size && deadlines[child + 1]! < deadlines[child]!) child++;
      const childDeadline = deadlines[child]!;
      if (childDeadline >= deadline) break;
      deadlines[slot] = childDeadline;
      const childEntry = entries[child]!;
      entries[slot] = childEntry;
      childEntry.queueSlot = slot;
      slot = child;
    }
    deadlines[slot] = deadline;
    entries[slot] = entry;
    entry.queueSlot = slot;
  }
}

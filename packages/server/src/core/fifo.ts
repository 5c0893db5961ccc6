/**
 * A first-in first-out queue on a plain array and a head index: `shift`
 * moves the head instead of moving every element, and the array is
 * compacted once the consumed front is at least half of it (and worth a
 * copy), so `push` and `shift` are O(1) amortized and no object is made per
 * element. Several of them advanced in lockstep (same pushes, same shifts)
 * keep parallel columns of one queue without an object per entry: the ack
 * queue (entry, due), the session store's tombstones (id, forget-at) and
 * the unacknowledged buffer (data, text, bytes).
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  /** The slot value a consumed element is overwritten with, so the collector can have it now. */
  readonly #hole: T;

  constructor(hole: T) {
    this.#hole = hole;
  }

  /** Elements held. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The front element (undefined when empty). */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** The element `index` places behind the front (0 is the front); undefined past the end. */
  at(index: number): T | undefined {
    const i = this.#head + index;
    return i < this.#items.length ? this.#items[i] : undefined;
  }

  /** Takes the front element out (undefined when empty). */
  shift(): T | undefined {
    const items = this.#items;
    const head = this.#head;
    if (head >= items.length) return undefined;
    const item = items[head];
    items[head] = this.#hole;
    this.#head = head + 1;
    this.#compact();
    return item;
  }

  /** Empties the queue; returns what it held, in order. */
  clear(): T[] {
    const held = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return held;
  }

  #compact(): void {
    const items = this.#items;
    const head = this.#head;
    if (head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (head >= 32 && head * 2 >= items.length) {
      items.splice(0, head);
      this.#head = 0;
    }
  }
}

/** A message kept until acknowledged, as `drain()` hands it back for the "undelivered" report. */
export interface UnackedMessage<T = unknown> {
  readonly seq: number;
  readonly data: T;
}

/**
 * Bytes shared by many buffers (all of a server's sessions): `used` is kept
 * by the buffers, `max` is the total they may hold.
 */
export interface ByteBudget {
  used: number;
  readonly max: number;
}

export interface UnackedBufferLimits {
  /** Messages held at most. */
  readonly maxMessages: number;
  /** Bytes held at most (the sum of each message's byte size). */
  readonly maxBytes: number;
  /** A total shared with other buffers, checked beside `maxBytes`. */
  readonly shared?: ByteBudget | undefined;
}

export type PushResult = "ok" | "full";

/** UTF-8 byte length of `text`, without allocating (a lone surrogate counts as 3, as it is sent). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes.
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * A sender's messages that the peer has not acknowledged yet, in `seq` order.
 *
 * The seqs held are always contiguous (ackedSeq + 1 … lastSeq), so a message
 * costs three array slots (data, encoded text, byte size) and no object of
 * its own. `push` assigns the next seq; a cumulative `ack(n)` drops
 * everything up to n from the front. The front is an index into the arrays,
 * compacted once it is half the length, so push and ack are O(1) amortized.
 * No timer: when to ack is the receiver's business, when to give up is the
 * session store's.
 */
export class UnackedBuffer<T = unknown> {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #shared: ByteBudget | undefined;
  #data: T[] = [];
  #text: string[] = [];
  #size: number[] = [];
  #head = 0;
  #bytes = 0;
  /** The highest seq acknowledged (0: none); the front message is ackedSeq + 1. */
  #ackedSeq = 0;

  constructor(limits: UnackedBufferLimits) {
    this.#maxMessages = limits.maxMessages;
    this.#maxBytes = limits.maxBytes;
    this.#shared = limits.shared;
  }

  /** Messages held. */
  get size(): number {
    return this.#data.length - this.#head;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The highest seq the peer acknowledged (0 before any). */
  get ackedSeq(): number {
    return this.#ackedSeq;
  }

  /** The highest seq pushed (0 before any). */
  get lastSeq(): number {
    return this.#ackedSeq + this.size;
  }

  /** The seq the next `push` assigns: encode the frame with it, then push. */
  get nextSeq(): number {
    return this.lastSeq + 1;
  }

  /**
   * Keeps a message sent (or about to be sent) with seq `nextSeq`. "full"
   * when it would pass a bound: nothing is kept and `nextSeq` is unchanged,
   * so the caller can refuse the send, or end the session and report
   * `drain()`; the buffer never drops a message to make room.
   */
  push(data: T, text: string, bytes: number = utf8Length(text)): PushResult {
    const shared = this.#shared;
    if (
      this.size >= this.#maxMessages ||
      this.#bytes + bytes > this.#maxBytes ||
      (shared !== undefined && shared.used + bytes > shared.max)
    ) {
      return "full";
    }
    this.#data.push(data);
    this.#text.push(text);
    this.#size.push(bytes);
    this.#bytes += bytes;
    if (shared !== undefined) shared.used += bytes;
    return "ok";
  }

  /**
   * The peer has every message up to `seq` (cumulative; a repeat or an older
   * ack is a no-op). False for a seq above the highest sent: a bad ack,
   * which the contract answers with 4400; nothing changes then.
   */
  ack(seq: number): boolean {
    if (seq > this.lastSeq) return false;
    let drop = seq - this.#ackedSeq;
    if (drop <= 0) return true;
    this.#ackedSeq = seq;
    let head = this.#head;
    let freed = 0;
    const data = this.#data;
    const text = this.#text;
    const size = this.#size;
    for (; drop > 0; drop--, head++) {
      freed += size[head]!;
      // Let the collector have them now, not at the next compaction.
      data[head] = undefined as T;
      text[head] = "";
    }
    this.#release(freed);
    this.#head = head;
    this.#compact();
    return true;
  }

  /**
   * Calls `send(text, seq)` for every message held, in order: the replay
   * after a resume. One callback for the whole replay, none per message.
   */
  replay(send: (text: string, seq: number) => void): void {
    const first = this.#ackedSeq + 1 - this.#head;
    // Read the bounds once: a callback that pushes must not replay its own pushes.
    const end = this.#data.length;
    for (let i = this.#head; i < end; i++) send(this.#text[i]!, first + i);
  }

  /**
   * Empties the buffer and hands back what it held, in order (seq and data):
   * the messages that could not be delivered, for the report at the end of
   * a session. Later pushes continue the seq count.
   */
  drain(): UnackedMessage<T>[] {
    const out: UnackedMessage<T>[] = [];
    const first = this.#ackedSeq + 1 - this.#head;
    for (let i = this.#head; i < this.#data.length; i++) {
      out.push({ seq: first + i, data: this.#data[i]! });
    }
    this.#ackedSeq = this.lastSeq;
    this.#release(this.#bytes);
    this.#data = [];
    this.#text = [];
    this.#size = [];
    this.#head = 0;
    return out;
  }

  #release(bytes: number): void {
    this.#bytes -= bytes;
    if (this.#shared !== undefined) this.#shared.used -= bytes;
  }

  /** Drops the acked front once it is half the arrays (and worth a copy): O(1) amortized. */
  #compact(): void {
    const head = this.#head;
    const length = this.#data.length;
    if (head === length) {
      this.#data.length = 0;
      this.#text.length = 0;
      this.#size.length = 0;
      this.#head = 0;
    } else if (head >= 32 && head * 2 >= length) {
      this.#data.splice(0, head);
      this.#text.splice(0, head);
      this.#size.splice(0, head);
      this.#head = 0;
    }
  }
}

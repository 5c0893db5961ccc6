import { Fifo } from "../fifo.js";

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
  /**
   * The highest seq already acknowledged when the buffer is made (default 0):
   * a session rebuilt from a shared store continues its count (issue 25).
   */
  readonly ackedSeq?: number | undefined;
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
 * costs three slots (data, encoded text, byte size) in one FIFO of three
 * columns and no object of its own. `push` assigns the next seq; a
 * cumulative `ack(n)` drops everything up to n from the front; push and ack
 * are O(1) amortized (see `Fifo`). No timer: when to ack is the receiver's
 * business, when to give up is the session store's.
 */
export class UnackedBuffer<T = unknown> {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #shared: ByteBudget | undefined;
  readonly #data = new Fifo<T>(undefined as T);
  readonly #text = new Fifo<string>("");
  readonly #size = new Fifo<number>(0);
  #bytes = 0;
  /** The highest seq acknowledged (0: none); the front message is ackedSeq + 1. */
  #ackedSeq = 0;

  constructor(limits: UnackedBufferLimits) {
    this.#maxMessages = limits.maxMessages;
    this.#maxBytes = limits.maxBytes;
    this.#shared = limits.shared;
    this.#ackedSeq = limits.ackedSeq ?? 0;
  }

  /** Messages held. */
  get size(): number {
    return this.#data.size;
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
    let freed = 0;
    for (; drop > 0; drop--) {
      freed += this.#size.shift()!;
      this.#data.shift();
      this.#text.shift();
    }
    this.#release(freed);
    return true;
  }

  /** The encoded frame of message `seq` while held (undefined once acknowledged or not yet pushed). O(1). */
  frameOf(seq: number): string | undefined {
    const i = seq - this.#ackedSeq - 1;
    return i >= 0 && i < this.size ? this.#text.at(i) : undefined;
  }

  /**
   * Calls `send(text, seq)` for every message held, in order: the replay
   * after a resume. One callback for the whole replay, none per message.
   */
  replay(send: (text: string, seq: number) => void): void {
    const first = this.#ackedSeq + 1;
    // Read the bound once: a callback that pushes must not replay its own pushes.
    const count = this.size;
    for (let i = 0; i < count; i++) send(this.#text.at(i)!, first + i);
  }

  /**
   * Empties the buffer and hands back what it held, in order (seq and data):
   * the messages that could not be delivered, for the report at the end of
   * a session. Later pushes continue the seq count.
   */
  drain(): UnackedMessage<T>[] {
    const first = this.#ackedSeq + 1;
    const out = this.#data.clear().map((data, i) => ({ seq: first + i, data }));
    this.#text.clear();
    this.#size.clear();
    this.#ackedSeq = first - 1 + out.length;
    this.#release(this.#bytes);
    return out;
  }

  #release(bytes: number): void {
    this.#bytes -= bytes;
    if (this.#shared !== undefined) this.#shared.used -= bytes;
  }
}

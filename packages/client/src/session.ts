import {
  encodeMessageFrame,
  type HeartbeatTerms,
  SeqVerdict,
  seqVerdict,
} from "@heartline/protocol";
import type { ReconnectTimer } from "./reconnect-timer.js";

/** An application message as the app gave it (for reports) and its `data` as JSON text. */
export interface Outgoing {
  readonly data: unknown;
  readonly json: string;
}

/** A message sent on a resumable session, kept until the server acknowledges its seq. */
interface Sent {
  readonly seq: number;
  readonly data: unknown;
  /** The frame as it went out, seq included: a replay sends it again unchanged. */
  readonly text: string;
}

/**
 * What outlives a connection attempt: the session's identity, the heartbeat
 * settings the app chose, the messages it holds, the resumable session's
 * counters (both directions) and when to try again. Everything that dies
 * with a socket is in `link.ts`.
 */
export interface Session {
  /** From the current (or last) `welcome`. */
  sessionId: string | undefined;
  /** The server's terms from the current (or last) `welcome`. */
  terms: HeartbeatTerms | undefined;
  /** `heartbeat.pause()`: lasts across attempts until `resume()`. */
  paused: boolean;
  /** The token for resuming this session (from the last `welcome`); undefined when none is held. */
  token: string | undefined;
  /** The current session negotiated resumption: messages carry seq, both sides ack. */
  readonly resumable: boolean;
  readonly reconnect: ReconnectTimer;
  /** Messages waiting for the next `welcome` (not sent yet: no seq). */
  readonly queued: number;
  /** Messages sent on this resumable session and not acknowledged yet. */
  readonly unacked: number;
  /** Room for one more held message (queued + unacked) under `maxUnackedMessages`. */
  readonly full: boolean;
  /** Keeps a message for the next `welcome`; false when the session holds its bound. */
  hold(message: Outgoing): boolean;
  /** Every queued message, oldest first, taken out to be reported. */
  takeQueued(): Outgoing[];
  /** The oldest queued message, taken out to go on the wire now (O(1)); undefined when none. */
  nextQueued(): Outgoing | undefined;
  /** The frame for a message going out now; on a resumable session it gets its seq and is kept until acked. */
  stamp(message: Outgoing): string;
  /**
   * The server has every message up to `seq`: they are dropped from the
   * unacked buffer. False for a seq never sent (the buffer is emptied anyway).
   */
  acked(seq: number): boolean;
  /** The frames to send again after a resumed `welcome`, in order. */
  replay(): string[];
  /**
   * A `welcome` that starts a session (not a resume): the counters restart,
   * `resumable` says whether it negotiated resumption, and every message
   * still unacknowledged is returned (their data): they are undelivered.
   */
  restart(resumable: boolean): unknown[];
  /** Where an inbound message seq fits; a delivered or duplicate one is due an ack. */
  receive(seq: number | undefined): SeqVerdict;
  /** Server messages received and not acknowledged yet (a duplicate alone makes 0 but still asks for an ack). */
  readonly unackedIn: number;
  /** `ackDue()` would return a seq: something new (or a duplicate) arrived since the last ack. */
  readonly owesAck: boolean;
  /** The seq to acknowledge now, or undefined when nothing new (no duplicate either) since the last ack. */
  ackDue(): number | undefined;
}

/**
 * `maxUnackedMessages` bounds everything the session holds: the outbox and, on a
 * resumable session, the sent messages waiting for their ack. Both count
 * toward the same bound, so `send` refuses (never drops) when it is reached.
 */
export function createSession(maxUnackedMessages: number, reconnect: ReconnectTimer): Session {
  // A FIFO with a moving head, so taking the oldest is O(1); compacted once
  // the taken part is the larger half.
  let outbox: Array<Outgoing | undefined> = [];
  let head = 0;
  const sent: Sent[] = [];
  let resumable = false;
  /** The last seq this session sent, and the last server seq it delivered and acked. */
  let outSeq = 0;
  let inSeq = 0;
  let ackedSeq = 0;
  /** A duplicate arrived: the server missed an ack, so send one even with nothing new. */
  let reack = false;
  return {
    sessionId: undefined,
    terms: undefined,
    paused: false,
    token: undefined,
    get resumable() {
      return resumable;
    },
    reconnect,
    get queued() {
      return outbox.length - head;
    },
    get unacked() {
      return sent.length;
    },
    get full() {
      return outbox.length - head + sent.length >= maxUnackedMessages;
    },
    hold(message) {
      if (this.full) return false;
      outbox.push(message);
      return true;
    },
    takeQueued() {
      const taken = outbox.slice(head) as Outgoing[];
      outbox = [];
      head = 0;
      return taken;
    },
    nextQueued() {
      if (head === outbox.length) return undefined;
      const message = outbox[head];
      outbox[head++] = undefined;
      if (head * 2 >= outbox.length) {
        outbox = outbox.slice(head);
        head = 0;
      }
      return message;
    },
    stamp(message) {
      if (!resumable) return encodeMessageFrame(message.json);
      const text = encodeMessageFrame(message.json, ++outSeq);
      sent.push({ seq: outSeq, data: message.data, text });
      return text;
    },
    acked(seq) {
      // Seqs in `sent` are consecutive, so the count to drop is one subtraction.
      const first = sent[0]?.seq ?? outSeq + 1;
      sent.splice(0, Math.max(0, seq - first + 1));
      return seq <= outSeq;
    },
    replay: () => sent.map((message) => message.text),
    restart(next) {
      resumable = next;
      outSeq = inSeq = ackedSeq = 0;
      reack = false;
      return sent.splice(0).map((message) => message.data);
    },
    receive(seq) {
      const verdict = seqVerdict(seq, inSeq);
      if (verdict === SeqVerdict.Duplicate) reack = true;
      else if (verdict === SeqVerdict.Deliver) inSeq = seq!;
      return verdict;
    },
    get unackedIn() {
      return inSeq - ackedSeq;
    },
    get owesAck() {
      return inSeq !== ackedSeq || reack;
    },
    ackDue() {
      if (inSeq === ackedSeq && !reack) return undefined;
      reack = false;
      ackedSeq = inSeq;
      return inSeq;
    },
  };
}

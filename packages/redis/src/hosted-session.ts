import type {
  SessionOwner,
  StoredSession,
  StoredSessionState,
  UnackedMessage,
  WaitingSession,
} from "@heartline/server";
import { UnackedBuffer } from "@heartline/server";

/** What a hosted session tells its store (the journal is batched there). */
export interface JournalSink {
  markDirty(session: HostedSession<unknown, unknown>): void;
}

/**
 * The unacked buffer of a hosted session: the server's own buffer (the
 * connection and the handle push to it as they always do) that also keeps
 * the frame text of every push until the store has recorded it. O(1) per
 * push; no timer.
 */
export class JournalBuffer<T> extends UnackedBuffer<T> {
  /** Frame texts pushed and not recorded yet: seqs `recordedOut + 1` …, in order. */
  readonly unrecorded: string[] = [];
  /** Off while a session is rebuilt from Redis (those messages are recorded already). */
  journalling = false;
  onPush: (() => void) | undefined;

  override push(data: T, text: string, bytes?: number): "ok" | "full" {
    const r = super.push(data, text, bytes);
    if (r === "ok" && this.journalling) {
      this.unrecorded.push(text);
      this.onPush?.();
    }
    return r;
  }
}

/**
 * A resumable session hosted by this node (attached to one of its
 * connections, or waiting here for its client). Its per-frame state is
 * local; `received`/`sent`/`acked`/`tokenProven` only mark it dirty, and the
 * store records every dirty session in one batch per event-loop turn.
 */
export class HostedSession<TData, TAuth> implements StoredSession<TData, TAuth>, WaitingSession {
  receivedSeq: number;
  owner: SessionOwner | undefined;
  state: StoredSessionState;
  recordedIn: number;
  recordedOut: number;
  onRecorded: (() => void) | undefined = undefined;
  /** The epoch this node holds it at (the fence: a write at an older epoch is refused). */
  epoch: string;
  /** The highest ack recorded. */
  recordedAcked: number;
  /** `tokenProven` not yet recorded. */
  provenPending = false;
  /** The window's start (clock time) while waiting. */
  detachedAt = 0;
  /** Waiting here, and Redis not told yet (its detach is part of the next batch). */
  detachPending = false;
  /** The connection whose end `detachPending` records (Redis checks it still held the session). */
  detachConn: string | undefined;
  /** A created session before its welcome (`release` drops it unreported). */
  fresh: boolean;
  /** Set when adopted from a lost node: that node's id (for `sessionAdopted`'s `from`). */
  adoptedFrom: string | undefined;
  /** An end or an expiry is in flight: no second one. */
  ending = false;
  dirty = false;
  /** For the eviction rule (`WaitingSession`): the address and client it was opened here for, its class. */
  address: string | undefined;
  clientKey: string | undefined;
  evictionClass = 0;

  constructor(
    private readonly sink: JournalSink,
    /** The token's lookup id (the Redis key's tag). */
    readonly id: string,
    readonly sessionId: string,
    readonly auth: TAuth,
    readonly unacked: JournalBuffer<TData>,
    init: {
      owner: SessionOwner | undefined;
      epoch: string;
      receivedSeq: number;
      fresh: boolean;
    },
  ) {
    this.owner = init.owner;
    this.state = init.owner === undefined ? "detached" : "attached";
    this.epoch = init.epoch;
    this.receivedSeq = init.receivedSeq;
    this.recordedIn = init.receivedSeq;
    this.recordedOut = unacked.lastSeq;
    this.recordedAcked = unacked.ackedSeq;
    this.fresh = init.fresh;
    unacked.journalling = true;
    unacked.onPush = () => this.sink.markDirty(this as HostedSession<unknown, unknown>);
  }

  tokenProven(): void {
    if (this.provenPending) return;
    this.provenPending = true;
    this.sink.markDirty(this as HostedSession<unknown, unknown>);
  }

  received(_seq: number): void {
    this.sink.markDirty(this as HostedSession<unknown, unknown>);
  }

  sent(_seq: number): void {
    this.sink.markDirty(this as HostedSession<unknown, unknown>);
  }

  acked(_seq: number): void {
    this.sink.markDirty(this as HostedSession<unknown, unknown>);
  }

  /** Messages pushed here and never recorded (what a fenced node reports as undeliverable). */
  unrecordedMessages(): UnackedMessage<TData>[] {
    const n = this.unacked.unrecorded.length;
    if (n === 0) return [];
    const all = this.unacked.drain();
    return all.slice(all.length - n);
  }
}

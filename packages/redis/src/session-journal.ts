import type { Clock } from "@heartline/protocol";
import { rethrowLater } from "@heartline/protocol";
import { SessionStoreErrorCode } from "./errors.js";
import type { HostedSession, JournalSink } from "./hosted-session.js";
import type { BatchOp, BatchReply } from "./session-batch.js";
import type { SessionKeys } from "./session-keys.js";
import { detachScript, journalScript } from "./session-scripts.js";

/** What the journal asks of the store that runs it. */
export interface JournalHost<TData, TAuth> {
  readonly keys: SessionKeys;
  readonly clock: Clock;
  ownerKey(): string;
  ttlMs(): number;
  /** Whether the client can send now (held otherwise; the store flushes at "ready"). */
  linkUp(): boolean;
  batch(ops: readonly BatchOp[]): Promise<BatchReply[]>;
  /** Redis refused a write: the session left this node ("moved") or Redis lost it ("gone"). */
  lose(session: HostedSession<TData, TAuth>, how: "moved" | "gone"): void;
  /** A batch (or part of it) failed: unavailable, reported, retried after `retryMs`. */
  failed(what: string, error: unknown): void;
  /** A whole batch went through: available again if it was not. */
  succeeded(): void;
  report(code: SessionStoreErrorCode, message: string, cause?: unknown): void;
}

interface Sent<TData, TAuth> {
  readonly s: HostedSession<TData, TAuth>;
  readonly epoch: string;
  readonly rs: number;
  readonly as: number;
  readonly n: number;
  readonly proven: boolean;
  readonly detach: boolean;
  readonly at: number;
}

/**
 * The journal of the sessions this node hosts (issue 25): per frame a
 * session is only marked dirty (O(1), no timer, no round trip); once per
 * event-loop turn ONE batch carries a journal script for every dirty session
 * (the frames pushed since the last one, the received seq, the ack, a proven
 * token), its detach if it started waiting, and any end decided while Redis
 * was away. When the batch is answered each session's `recordedIn` and
 * `recordedOut` advance and `onRecorded` lets its connection ack and write.
 */
export class SessionJournal<TData, TAuth> implements JournalSink {
  readonly dirty = new Set<HostedSession<TData, TAuth>>();
  /** Ends (and drops) decided while Redis was unreachable, written when it is back. */
  readonly pendingEnds: BatchOp[] = [];
  #scheduled = false;
  #flushing: Promise<void> | undefined;

  constructor(private readonly host: JournalHost<TData, TAuth>) {}

  /** Entries waiting to be sent (dirty sessions, held ends, a scheduled flush). */
  get pending(): number {
    return this.dirty.size + this.pendingEnds.length + (this.#scheduled ? 1 : 0);
  }

  /** A batch is in flight or queued. */
  get busy(): boolean {
    return this.#flushing !== undefined;
  }

  markDirty(session: HostedSession<unknown, unknown>): void {
    const s = session as HostedSession<TData, TAuth>;
    if (s.state === "ended") return;
    this.dirty.add(s);
    this.schedule();
  }

  forget(session: HostedSession<TData, TAuth>): void {
    this.dirty.delete(session);
  }

  /** One flush after the I/O already read (every frame of this turn marks first), or a microtask. */
  schedule(): void {
    if (this.#scheduled || (this.dirty.size === 0 && this.pendingEnds.length === 0)) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      void this.flush();
    };
    const clock = this.host.clock;
    if (clock.afterIO !== undefined) clock.afterIO(run);
    else queueMicrotask(run);
  }

  /** Records every dirty session now (one batch); resolves when that and any batch before it are done. */
  flush(): Promise<void> {
    const next = (this.#flushing ?? Promise.resolve()).then(() => this.#flushOnce());
    this.#flushing = next;
    void next.finally(() => {
      if (this.#flushing === next) this.#flushing = undefined;
    });
    return next;
  }

  clear(): void {
    this.dirty.clear();
    this.pendingEnds.length = 0;
  }

  async #flushOnce(): Promise<void> {
    const h = this.host;
    if (this.dirty.size === 0 && this.pendingEnds.length === 0) return;
    if (!h.linkUp()) return;
    const sessions = [...this.dirty];
    this.dirty.clear();
    const ops: BatchOp[] = [];
    const sent: Sent<TData, TAuth>[] = [];
    const ttl = h.ttlMs();
    const own = h.ownerKey();
    for (const s of sessions) {
      if (s.state === "ended") continue;
      const n = s.unacked.unrecorded.length;
      const entry: Sent<TData, TAuth> = {
        s,
        epoch: s.epoch,
        rs: s.receivedSeq,
        as: s.unacked.ackedSeq,
        n,
        proven: s.provenPending,
        detach: s.detachPending,
        at: s.detachedAt,
      };
      sent.push(entry);
      const keys = [h.keys.session(s.id), h.keys.messages(s.id)];
      ops.push({
        script: journalScript,
        keys,
        args: [
          own,
          s.epoch,
          entry.rs,
          entry.as,
          s.recordedOut + 1,
          entry.proven ? 1 : 0,
          ttl,
          ...s.unacked.unrecorded.slice(0, n),
        ],
      });
      if (entry.detach) {
        ops.push({
          script: detachScript,
          keys,
          args: [own, s.epoch, s.detachConn ?? "", entry.at, ttl],
        });
      }
    }
    const ends = this.pendingEnds.splice(0);
    ops.push(...ends);
    let replies: BatchReply[];
    try {
      replies = await h.batch(ops);
    } catch (error) {
      for (const e of sent) if (e.s.state !== "ended") this.dirty.add(e.s);
      this.pendingEnds.unshift(...ends);
      h.failed("journal batch", error);
      return;
    }
    let i = 0;
    let anyFailed: Error | undefined;
    for (const e of sent) {
      const r = replies[i++]!;
      const d = e.detach ? replies[i++]! : undefined;
      const failed = !r.ok ? r.error : d !== undefined && !d.ok ? d.error : undefined;
      if (e.s.state === "ended") continue;
      if (failed !== undefined) {
        anyFailed = failed;
        this.dirty.add(e.s);
        continue;
      }
      this.#recorded(e, Number((r as { value: unknown }).value));
    }
    for (const end of ends) {
      const r = replies[i++]!;
      if (!r.ok) {
        anyFailed = r.error;
        this.pendingEnds.push(end);
      }
    }
    if (anyFailed !== undefined) {
      // Retried after retryMs, not at once: a Redis that answers errors must not be hammered.
      h.failed("journal batch", anyFailed);
      return;
    }
    h.succeeded();
    if (this.dirty.size > 0 || this.pendingEnds.length > 0) this.schedule();
  }

  /** One session's journal answer: recorded, fenced, or behind. */
  #recorded(e: Sent<TData, TAuth>, code: number): void {
    const h = this.host;
    const s = e.s;
    if (code < 0) {
      // Refused at an epoch this node has since left behind (it resumed the
      // session again here meanwhile): not a fence, written again at the new one.
      if (s.epoch !== e.epoch) {
        this.dirty.add(s);
        return;
      }
      h.lose(s, code === -1 ? "moved" : "gone");
      return;
    }
    if (code !== s.recordedOut + e.n) {
      // Redis's record is behind what it had acknowledged (a failover to a
      // lagging replica, an AOF that lost its last second): continuing would
      // give seqs twice. Not this node's to continue: reported with everything.
      h.report(
        SessionStoreErrorCode.BadRecord,
        `session ${s.id}: Redis holds seq ${code}, this node had ${s.recordedOut + e.n} recorded`,
      );
      h.lose(s, "gone");
      return;
    }
    const before = s.recordedIn + s.recordedOut;
    s.unacked.unrecorded.splice(0, e.n);
    s.recordedOut += e.n;
    s.recordedIn = Math.max(s.recordedIn, e.rs);
    s.recordedAcked = Math.max(s.recordedAcked, e.as);
    if (e.proven) s.provenPending = false;
    if (e.detach && s.detachedAt === e.at) s.detachPending = false;
    if (s.recordedIn + s.recordedOut !== before) {
      try {
        s.onRecorded?.();
      } catch (error) {
        // The connection's hook must not break the batch's bookkeeping; never swallowed.
        rethrowLater(error);
      }
    }
  }
}

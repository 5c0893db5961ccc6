import { randomBytes } from "node:crypto";
import { type Clock, ResumeFailure, rethrowLater, type TimerHandle } from "@heartline/protocol";
import type {
  OpenResult,
  SessionOwner,
  SessionStore,
  SessionStoreCounts,
  SessionStoreHooks,
  StoredEndCause,
  StoredSession,
  StoredSessionEnd,
  UnackedMessage,
} from "@heartline/server";
import {
  evictionClass,
  formatToken,
  ID_BYTES,
  newSecret,
  parseToken,
  randomBase64url,
  WaitingSessions,
} from "@heartline/server";
import { SessionStoreError, SessionStoreErrorCode } from "./errors.js";
import { HostedSession, JournalBuffer } from "./hosted-session.js";
import { defaultNodeId } from "./node-id.js";
import { NodeLease } from "./node-lease.js";
import { type BatchCounters, type BatchOp, type BatchReply, runBatch } from "./session-batch.js";
import { SessionJournal } from "./session-journal.js";
import { type SessionKeys, sessionKeys } from "./session-keys.js";
import { hashFields, sameHash, sha256 } from "./session-record.js";
import { adoptScript, createScript, dropScript, endScript, takeScript } from "./session-scripts.js";
import { type RedisSessionStoreOptions, resolveStoreOptions } from "./session-store-options.js";
import { leftNotice, TakeoverNotices, takenNotice } from "./takeover-notices.js";
import { TtlRefresh, type TtlRefreshHost } from "./ttl-refresh.js";
import { WindowQueue } from "./window-queue.js";

/** What `createRedisSessionStore` returns: the seam, plus this store's figures. */
// biome-ignore lint/suspicious/noExplicitAny: as createRedisSessionStore's TAuth
export interface RedisSessionStore<TData = unknown, TAuth = any>
  extends SessionStore<TData, TAuth> {
  /** Round trips and commands sent, and the owner key this node holds sessions under. */
  stats(): RedisSessionStoreStats;
}

/** `store.stats()`: this node's view of its store (the batching, the fence, the adoption sweep). */
export interface RedisSessionStoreStats {
  /** `<nodeId>#<incarnation>`: the owner recorded on this node's sessions (changes if its lease lapsed). */
  readonly ownerKey: string;
  /** Batches sent (one round trip each on a single Redis). */
  readonly batches: number;
  /** Commands in them (scripts included). */
  readonly commands: number;
  /** Sessions that left this node (resumed elsewhere, or fenced). */
  readonly moved: number;
  /** Sessions this node hosts whose journal waits for Redis. */
  readonly dirty: number;
  /** Batches and commands sent and not answered yet. */
  readonly inFlight: number;
  /** Journal entries and ends waiting to be sent (0 when this node has nothing unrecorded). */
  readonly pending: number;
  /** Adoption attempts another survivor won (or that found the session gone): the script's CAS at work. */
  readonly adoptionsLost: number;
}

type Hooks<TData, TAuth> = SessionStoreHooks<TData, TAuth>;
type Session<TData, TAuth> = HostedSession<TData, TAuth>;

/**
 * A `SessionStore` on Redis (issue 25): resumable sessions that outlive the
 * process holding them. Any node of the cluster resumes any session; a dead
 * node's sessions are adopted by the survivors, each exactly once, and end
 * at their window's end, reported once cluster-wide. See the package README
 * ("Sessions in Redis") for the key layout, the guarantees and the costs.
 */
export function createRedisSessionStore<
  TData = unknown,
  // `any` by default: the store keeps auth as JSON and never looks inside, so
  // it fits a server whatever its `authenticate` returns (a store typed
  // `unknown` would not be assignable to the server's `resume.store`).
  // biome-ignore lint/suspicious/noExplicitAny: see above
  TAuth = any,
>(options: RedisSessionStoreOptions): RedisSessionStore<TData, TAuth> {
  const opts = resolveStoreOptions(options);
  const redis = options.redis;
  const nodeId = options.nodeId ?? defaultNodeId();
  const keys: SessionKeys = sessionKeys(opts.keyPrefix);
  const counters: BatchCounters = { batches: 0, commands: 0 };

  let hooks: Hooks<TData, TAuth> | undefined;
  let clock: Clock;
  let incarnation = randomBytes(6).toString("hex");
  let ownerKey = `${nodeId}#${incarnation}`;

  // Hosted sessions: by token id, by session id; the waiting ones in window
  // order (a Map keeps insertion order, and every window is the same length,
  // so the first waiter's window ends first: one timer for all).
  const byId = new Map<string, Session<TData, TAuth>>();
  const bySessionId = new Map<string, Session<TData, TAuth>>();
  let windows: WindowQueue<Session<TData, TAuth>> | undefined;
  // The same sessions under the in-process store's eviction rule (its classes, per address and client).
  let waitingSet: WaitingSessions<Session<TData, TAuth>> | undefined;

  let retryTimer: TimerHandle | undefined;

  let linkUp = redis.status === "ready";
  let writesFailing = false;
  let available = linkUp;
  let closed = false;
  let started = false;

  let evicted = 0;
  let refused = 0;
  let adopted = 0;
  let moved = 0;
  let adoptionsLost = 0;
  // Sessions whose end is held (decided here, not written yet): hosted, but neither attached nor waiting.
  let endsHeld = 0;
  const budget = { used: 0, max: Number.POSITIVE_INFINITY };

  function h(): Hooks<TData, TAuth> {
    if (hooks === undefined) {
      throw new SessionStoreError(SessionStoreErrorCode.Closed, "start(hooks) was not called");
    }
    return hooks;
  }

  function report(code: SessionStoreErrorCode, message: string, cause?: unknown): void {
    const onError = options.onError;
    if (onError === undefined) return;
    try {
      onError(new SessionStoreError(code, message, { cause }));
    } catch (error) {
      rethrowLater(error);
    }
  }

  function call<A extends unknown[]>(fn: ((...a: A) => void) | undefined, ...args: A): void {
    if (fn === undefined) return;
    try {
      fn(...args);
    } catch (error) {
      // A hook that throws must not break the store's bookkeeping; never swallowed.
      rethrowLater(error);
    }
  }

  // Round trips in flight (the `settle` of tests waits for 0).
  let inFlight = 0;
  async function batch(ops: readonly BatchOp[]): Promise<BatchReply[]> {
    inFlight++;
    try {
      return await runBatch(redis, ops, counters);
    } finally {
      inFlight--;
    }
  }
  async function command(name: string, ...args: (string | number)[]): Promise<unknown> {
    inFlight++;
    try {
      return await redis.call(name, ...args);
    } finally {
      inFlight--;
    }
  }

  // ---- TTLs ----
  // A live session's keys outlive its window by a window (the tombstone
  // period, so `expired` is told apart) plus two leases (so a dead node's
  // sessions are still there when a survivor adopts them). Attached
  // sessions are refreshed by their journal and by the node's heartbeat.
  const ttlMs = (): number => 2 * h().options.windowMs + 2 * opts.nodeTtlMs;
  const tombstoneMs = (): number => h().options.windowMs;

  // ---- availability ----

  function setAvailable(): void {
    const next = linkUp && !writesFailing && !closed;
    if (next === available) return;
    available = next;
    call(hooks?.onAvailability, next);
  }

  const onReady = (): void => {
    linkUp = true;
    writesFailing = false;
    setAvailable();
    scheduleFlush();
    if (lease.registered) void lease.tick();
    else void lease.ensureRegistered();
  };
  const onClose = (): void => {
    linkUp = false;
    setAvailable();
  };

  // ---- building sessions ----

  function newBuffer(ackedSeq: number): JournalBuffer<TData> {
    const o = h().options;
    return new JournalBuffer<TData>({
      maxMessages: o.maxUnackedMessages,
      maxBytes: o.maxUnackedBytes,
      shared: budget,
      ackedSeq,
    });
  }

  function parseAuth(raw: string | undefined): TAuth {
    if (raw === undefined || raw === "") return undefined as TAuth;
    return JSON.parse(raw) as TAuth;
  }

  function encodeAuth(auth: TAuth): string {
    return auth === undefined ? "" : JSON.stringify(auth);
  }

  /** A session rebuilt from Redis (resumed here from elsewhere, or adopted). */
  function rebuild(
    id: string,
    sessionId: string,
    auth: TAuth,
    epoch: string,
    owner: SessionOwner | undefined,
    rs: number,
    as: number,
    texts: readonly string[],
  ): Session<TData, TAuth> {
    const buffer = newBuffer(as);
    for (const text of texts) {
      // Frames are `{"type":"message","seq":n,"data":…}`: the data is the application's, as sent.
      const data = (JSON.parse(text) as { data: TData }).data;
      if (buffer.push(data, text) === "full") break;
    }
    const s = new HostedSession<TData, TAuth>(journal, id, sessionId, auth, buffer, {
      owner,
      epoch,
      receivedSeq: rs,
      fresh: false,
    });
    host(s);
    return s;
  }

  function host(s: Session<TData, TAuth>): void {
    byId.set(s.id, s);
    bySessionId.set(s.sessionId, s);
  }

  function unhost(s: Session<TData, TAuth>): void {
    if (byId.get(s.id) === s) byId.delete(s.id);
    if (bySessionId.get(s.sessionId) === s) bySessionId.delete(s.sessionId);
    stopWaiting(s);
    journal.forget(s);
  }

  /** No longer waiting here (resumed, ended, moved): out of the window queue and the eviction sets. */
  function stopWaiting(s: Session<TData, TAuth>): void {
    windows?.remove(s);
    waitingSet?.remove(s);
  }

  function indexAdd(id: string): BatchOp {
    return { command: "SADD", args: [keys.index(ownerKey), id] };
  }
  function indexRemove(id: string): BatchOp {
    return { command: "SREM", args: [keys.index(ownerKey), id] };
  }

  // ---- the window ----

  function wait(s: Session<TData, TAuth>, at: number): void {
    s.state = "detached";
    s.owner = undefined;
    s.detachedAt = at;
    stopWaiting(s);
    windows!.add(s);
    // The in-process store's eviction rule, over the sessions waiting on this node.
    s.evictionClass = evictionClass(
      s.auth !== undefined && s.auth !== null,
      s.receivedSeq > 0 || s.unacked.nextSeq > 1,
    );
    const set = waitingSet!;
    set.add(s);
    for (let victim = set.overBound(s); victim !== undefined; victim = set.overBound(s)) {
      evicted++;
      // Out of the sets at once (so the loop ends); reported when Redis has ended it.
      set.remove(victim);
      void endHere(victim, "evicted", "");
    }
  }

  /** The window passed: end it, once cluster-wide (the script decides), reported with what it held. */
  async function expire(s: Session<TData, TAuth>): Promise<void> {
    if (s.ending || s.state !== "detached") return;
    s.ending = true;
    const o = h().options;
    try {
      await flushNow();
      const [reply] = await batch([
        {
          script: endScript,
          keys: [keys.session(s.id), keys.messages(s.id)],
          args: [
            ownerKey,
            s.epoch,
            "",
            "expired",
            tombstoneMs(),
            clock.now(),
            o.windowMs,
            o.maxUnackedMessages,
          ],
        },
        indexRemove(s.id),
      ]);
      if (!reply!.ok) throw reply!.error;
      const code = Number((reply!.value as unknown[])[0]);
      s.ending = false;
      if (code === 1 || code === -2) finish(s, "expired");
      else if (code === -1) lose(s, "moved");
      else if (s.state === "detached") {
        // Redis's record says the window has not passed (its detach not
        // recorded yet): asked again after retryMs, never in a loop.
        windows?.retry(s);
        scheduleRetry();
      }
    } catch (error) {
      s.ending = false;
      failed("expiry", error);
      // Tried again once Redis answers: back in the queue, due now.
      if (s.state === "detached") {
        windows?.retry(s);
        scheduleRetry();
      }
    }
  }

  /** Reports the end (once) with every message the session still held, and forgets it. */
  function finish(
    s: Session<TData, TAuth>,
    reason: StoredSessionEnd<TData, TAuth>["reason"],
  ): void {
    // A held end reads "ended" and is reported here, once (endHeld cleared).
    if (s.state === "ended" && !s.endHeld) return;
    if (s.endHeld) endsHeld--;
    s.endHeld = false;
    unhost(s);
    s.state = "ended";
    s.owner = undefined;
    const undelivered = s.unacked.drain();
    s.unacked.unrecorded.length = 0;
    const end: StoredSessionEnd<TData, TAuth> = {
      sessionId: s.sessionId,
      reason,
      auth: s.auth,
      undelivered,
      at: clock.now(),
    };
    call(h().onEnd, end);
  }

  /**
   * The session is not this node's any more: "moved" (Redis says another
   * owner holds it: what was recorded travels with it, the unrecorded rest is
   * reported here) or "gone" (Redis no longer has it at all, e.g. it
   * restarted empty: everything it held is reported here).
   */
  function lose(s: Session<TData, TAuth>, how: "moved" | "gone"): void {
    if (s.state === "ended" && !s.endHeld) return;
    if (s.endHeld) endsHeld--;
    s.endHeld = false;
    unhost(s);
    const owner = s.owner;
    const list: ReadonlyArray<UnackedMessage<TData>> =
      how === "moved" ? s.unrecordedMessages() : s.unacked.drain();
    s.unacked.unrecorded.length = 0;
    s.state = "ended";
    s.owner = undefined;
    moved++;
    const hk = h();
    if (owner !== undefined) call(hk.onReplaced, owner, list);
    else call(hk.onMoved, s.sessionId, list);
  }

  // ---- the journal: one batch per event-loop turn (session-journal.ts) ----

  const journal: SessionJournal<TData, TAuth> = new SessionJournal<TData, TAuth>({
    keys,
    get clock() {
      return clock;
    },
    ownerKey: () => ownerKey,
    ttlMs,
    linkUp: () => linkUp,
    batch,
    lose,
    failed(what, error) {
      failed(what, error);
      scheduleRetry();
    },
    succeeded() {
      if (!writesFailing) return;
      writesFailing = false;
      setAvailable();
    },
    report,
  });
  const flushNow = (): Promise<void> => journal.flush();
  const scheduleFlush = (): void => journal.schedule();

  function scheduleRetry(): void {
    if (retryTimer !== undefined || closed) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      scheduleFlush();
      windows?.fire();
      // Nothing of the journal's to retry: a probe says when Redis answers
      // again (a failed resume or create must not leave the store unavailable).
      if (writesFailing && linkUp && journal.pending === 0) void probe();
    }, opts.retryMs);
  }

  async function probe(): Promise<void> {
    try {
      const [r] = await batch([{ command: "PING", args: [] }]);
      if (!r!.ok) throw r!.error;
      writesFailing = false;
      setAvailable();
    } catch {
      scheduleRetry();
    }
  }

  function failed(what: string, error: unknown): void {
    if (!writesFailing) {
      writesFailing = true;
      setAvailable();
    }
    report(SessionStoreErrorCode.RedisWrite, `${what} failed; held and retried`, error);
    scheduleRetry();
  }

  function clientKeyOf(auth: TAuth): string | undefined {
    const clientOf = h().options.clientOf;
    if (clientOf === undefined) return undefined;
    try {
      return clientOf(auth);
    } catch (error) {
      // No bound for this session rather than no session; the throw is not swallowed.
      rethrowLater(error);
      return undefined;
    }
  }

  // ---- open: create or resume ----

  async function create(
    auth: TAuth,
    owner: SessionOwner,
    failure: ResumeFailure | undefined,
    newSessionId: () => string,
  ): Promise<OpenResult<TData, TAuth>> {
    const o = h().options;
    if (!available) {
      refused++;
      return { kind: "plain", failure };
    }
    if (byId.size >= o.maxSessions) {
      // At the bound the oldest session waiting here gives way (reported `evicted`).
      const victim = waitingSet!.next();
      if (victim === undefined) {
        refused++;
        return { kind: "plain", failure };
      }
      evicted++;
      waitingSet!.remove(victim);
      await endHere(victim, "evicted", "");
    }
    const sessionId = newSessionId();
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = randomBase64url(ID_BYTES);
      const secret = newSecret();
      let replies: BatchReply[];
      try {
        replies = await batch([
          {
            script: createScript,
            keys: [keys.session(id), keys.messages(id)],
            args: [
              sessionId,
              encodeAuth(auth),
              ownerKey,
              nodeId,
              owner.connectionId,
              sha256(secret),
              ttlMs(),
            ],
          },
          // In the same round trip; harmless if the id was taken (adoption re-checks the owner).
          indexAdd(id),
        ]);
        if (!replies[0]!.ok) throw replies[0]!.error;
      } catch (error) {
        failed("create", error);
        refused++;
        return { kind: "plain", failure };
      }
      if (Number(replies[0]!.value) !== 1) continue; // the id was taken: draw another
      const s = new HostedSession<TData, TAuth>(journal, id, sessionId, auth, newBuffer(0), {
        owner,
        epoch: "1",
        receivedSeq: 0,
        fresh: true,
      });
      s.detachConn = owner.connectionId;
      host(s);
      return { kind: "created", session: s, token: formatToken(id, secret), failure };
    }
    refused++;
    return { kind: "plain", failure };
  }

  async function open(
    token: string | undefined,
    auth: TAuth,
    owner: SessionOwner,
    newSessionId: () => string,
  ): Promise<OpenResult<TData, TAuth>> {
    if (closed) return { kind: "plain" };
    if (token === undefined) return create(auth, owner, undefined, newSessionId);
    const parsed = parseToken(token);
    if (parsed === undefined) return create(auth, owner, ResumeFailure.Unknown, newSessionId);
    if (!available) return { kind: "unavailable" };
    try {
      const r = await resume(parsed.id, parsed.secret, auth, owner);
      if (r.kind === "failed") return create(auth, owner, r.failure, newSessionId);
      if (r.kind === "busy") return { kind: "unavailable" };
      return r.result;
    } catch (error) {
      failed("resume", error);
      return { kind: "unavailable" };
    }
  }

  async function resume(
    id: string,
    secret: string,
    auth: TAuth,
    owner: SessionOwner,
  ): Promise<
    | { kind: "failed"; failure: ResumeFailure }
    | { kind: "ok"; result: OpenResult<TData, TAuth> }
    | { kind: "busy" }
  > {
    const o = h().options;
    const presented = sha256(secret);
    for (let attempt = 0; attempt < 5; attempt++) {
      const local = byId.get(id);
      // A local journal (or a held end) must be in Redis before the session moves to a new epoch.
      if (local !== undefined && (journal.dirty.has(local) || journal.busy || local.endHeld)) {
        await flushNow();
      }
      // Its end is decided here and still not written: not resumable (503, the client retries).
      if (local?.endHeld === true) return { kind: "busy" };
      const f = hashFields(await command("HGETALL", keys.session(id)));
      if (f.st === undefined) return { kind: "failed", failure: ResumeFailure.Unknown };
      if (f.st === "x") {
        // A tombstone tells expired/overflow apart for windowMs (on this node's clock), then: unknown.
        if (clock.now() >= Number(f.until ?? 0)) {
          return { kind: "failed", failure: ResumeFailure.Unknown };
        }
        return {
          kind: "failed",
          failure: f.why === "overflow" ? ResumeFailure.Overflow : ResumeFailure.Expired,
        };
      }
      // Both hashes compared, whatever the first said.
      const current = sameHash(f.h ?? "", presented);
      const previous = sameHash(f.hp ?? "", presented);
      if (!current && !previous) return { kind: "failed", failure: ResumeFailure.Unknown };
      const now = clock.now();
      const da = Number(f.da);
      if (f.st === "d" && now >= da + o.windowMs) {
        // Its host ends it (the window's timer, once cluster-wide); here, it expired.
        if (local !== undefined && local.state === "detached") void expire(local);
        return { kind: "failed", failure: ResumeFailure.Expired };
      }
      let sessionAuth: TAuth;
      try {
        sessionAuth = parseAuth(f.auth);
      } catch (error) {
        report(SessionStoreErrorCode.BadRecord, `session ${id}: unreadable auth`, error);
        return { kind: "failed", failure: ResumeFailure.Unknown };
      }
      let same = false;
      try {
        same = o.sameClient(sessionAuth, auth);
      } catch (error) {
        rethrowLater(error);
      }
      if (!same) return { kind: "failed", failure: ResumeFailure.Mismatch };
      const nextSecret = newSecret();
      const [reply] = await batch([
        {
          script: takeScript,
          keys: [keys.session(id), keys.messages(id)],
          args: [
            f.ep!,
            presented,
            ownerKey,
            nodeId,
            owner.connectionId,
            sha256(nextSecret),
            ttlMs(),
            o.maxUnackedMessages,
          ],
        },
      ]);
      if (!reply!.ok) throw reply!.error;
      const v = reply!.value as unknown[];
      if (v[0] !== "ok") continue; // changed between the read and the take: read again
      const epoch = String(v[1]);
      const oldNode = String(v[2]);
      const oldConn = String(v[3]);
      const oldState = String(v[4]);
      const rs = Number(v[6]);
      const as = Number(v[7]);
      const texts = (v[9] as string[]) ?? [];
      let replaced: SessionOwner | undefined;
      if (oldState === "a") replaced = { nodeId: oldNode, connectionId: oldConn };
      let s: Session<TData, TAuth>;
      const fresh = byId.get(id);
      if (fresh !== undefined && fresh.epoch === f.ep && fresh.state !== "ended") {
        // Hosted here at the epoch just taken: the local copy is the whole truth (recorded, and anything newer).
        s = fresh;
        stopWaiting(s);
        s.epoch = epoch;
        s.state = "attached";
        s.owner = owner;
        s.detachPending = false;
        s.fresh = false;
      } else {
        // Hosted here at an older epoch (it moved away and back meanwhile): that copy is stale.
        if (fresh !== undefined) lose(fresh, "moved");
        s = rebuild(id, f.sid ?? "", sessionAuth, epoch, owner, rs, as, texts);
      }
      s.detachConn = owner.connectionId;
      const after: BatchOp[] = [indexAdd(id)];
      if (oldNode !== nodeId) {
        // The node that held it closes its connection 4409 (or drops its waiting copy) at once.
        after.push({
          command: "PUBLISH",
          args: [keys.nodeChannel(oldNode), takenNotice(id, Number(epoch))],
        });
      }
      void batch(after).catch((e) => failed("takeover notice", e));
      return {
        kind: "ok",
        result: {
          kind: "resumed",
          session: s,
          token: formatToken(id, nextSecret),
          replaced,
          gapMs: oldState === "d" ? Math.max(0, now - da) : 0,
        },
      };
    }
    // Changed under us five times running (other resumes of the same token
    // racing): 503, the token kept, the client tries again shortly.
    return { kind: "busy" };
  }

  // ---- detach, release, end ----

  function holds(s: Session<TData, TAuth>, owner: SessionOwner): boolean {
    return (
      s.state === "attached" &&
      s.owner !== undefined &&
      s.owner.nodeId === owner.nodeId &&
      s.owner.connectionId === owner.connectionId
    );
  }

  async function detach(
    session: StoredSession<TData, TAuth>,
    owner: SessionOwner,
  ): Promise<boolean> {
    const s = session as Session<TData, TAuth>;
    if (!holds(s, owner) || byId.get(s.id) !== s) return false;
    // Local at once (the window runs on this node's clock); Redis is told in
    // the next batch, after the journal (held and retried while unreachable).
    s.detachConn = owner.connectionId;
    s.detachPending = true;
    s.fresh = false;
    wait(s, clock.now());
    journal.markDirty(s as HostedSession<unknown, unknown>);
    await flushNow();
    return true;
  }

  async function release(session: StoredSession<TData, TAuth>, owner: SessionOwner): Promise<void> {
    const s = session as Session<TData, TAuth>;
    if (!holds(s, owner)) return;
    if (!s.fresh) {
      await detach(s, owner);
      return;
    }
    // Created for an upgrade that was abandoned: dropped unreported.
    unhost(s);
    s.state = "ended";
    s.owner = undefined;
    s.unacked.drain();
    const op: BatchOp = {
      script: dropScript,
      keys: [keys.session(s.id), keys.messages(s.id)],
      args: [ownerKey, s.epoch],
    };
    try {
      const replies = await batch([op, indexRemove(s.id)]);
      if (!replies[0]!.ok) throw replies[0]!.error;
    } catch (error) {
      journal.pendingEnds.push({ op });
      failed("release", error);
      scheduleRetry();
    }
  }

  /**
   * Ends a hosted session here: Redis first (the script makes it once
   * cluster-wide), then the report. Unreachable Redis: the write is held and
   * retried, and the report waits for its answer (`holdEnd`).
   */
  async function endHere(
    s: Session<TData, TAuth>,
    reason: StoredSessionEnd<TData, TAuth>["reason"],
    conn: string,
  ): Promise<boolean> {
    if (s.ending) return false;
    s.ending = true;
    const o = h().options;
    const op: BatchOp = {
      script: endScript,
      keys: [keys.session(s.id), keys.messages(s.id)],
      args: [
        ownerKey,
        s.epoch,
        conn,
        reason === "overflow" ? "overflow" : "",
        tombstoneMs(),
        clock.now(),
        o.windowMs,
        o.maxUnackedMessages,
      ],
    };
    let code: number;
    try {
      const replies = await batch([op, indexRemove(s.id)]);
      if (!replies[0]!.ok) throw replies[0]!.error;
      code = Number((replies[0]!.value as unknown[])[0]);
    } catch (error) {
      s.ending = false;
      holdEnd(s, op, reason);
      failed("end", error);
      scheduleRetry();
      return false;
    }
    s.ending = false;
    if (code === 1 || code === -2) {
      finish(s, reason);
      return true;
    }
    if (code === -1) lose(s, "moved");
    return false;
  }

  /**
   * An end Redis could not be told of: not reported yet. Reported at once, it
   * would be reported twice if this node stays cut off past its lease (a
   * survivor adopts the session, still live in Redis, and ends it at its
   * window's end). So the session waits "ended" to the core (`send` returns
   * false, `close` is a no-op, no resume here) and the held write's answer
   * decides: written (1) or gone from Redis (-2) → ended here, with
   * everything it held; fenced (-1: adopted or resumed elsewhere meanwhile)
   * → moved, with what this node held unrecorded (the new holder reports
   * the one end, or carries the session on).
   */
  function holdEnd(
    s: Session<TData, TAuth>,
    op: BatchOp,
    reason: StoredSessionEnd<TData, TAuth>["reason"],
  ): void {
    s.endHeld = true;
    endsHeld++;
    s.state = "ended";
    s.owner = undefined;
    // Still hosted (byId), so a resume here writes the end first; no longer waiting or journalled.
    stopWaiting(s);
    journal.forget(s);
    journal.pendingEnds.push({
      op,
      answered(value) {
        if (!s.endHeld) return; // settled meanwhile (a takeover notice, an adoption here, shutdown)
        const code = Number(Array.isArray(value) ? value[0] : value);
        // The end script answers 1, -1 or -2 here (no connection or expiry condition: never 0).
        if (code === -1) lose(s, "moved");
        else finish(s, reason);
      },
    });
  }

  async function end(
    session: StoredSession<TData, TAuth>,
    reason: StoredEndCause,
    owner?: SessionOwner,
  ): Promise<boolean> {
    const s = session as Session<TData, TAuth>;
    if (s.state === "ended" || byId.get(s.id) !== s) return false;
    if (owner !== undefined && !holds(s, owner)) return false;
    return endHere(s, reason, "");
  }

  // ---- node liveness and adoption (node-lease.ts) ----

  /**
   * This node's lease lapsed (it was cut off from Redis, or paused, for
   * longer than nodeTtlMs): the survivors adopt its sessions, so every one
   * it hosts is lost here (fenced anyway). It starts a new incarnation, so
   * its new sessions never sit in the index being swept.
   */
  async function leaseLost(): Promise<void> {
    report(
      SessionStoreErrorCode.LeaseLost,
      `node ${nodeId}: lease lapsed; its ${byId.size} sessions are handed to the survivors`,
    );
    // Each session: still in Redis, it is (being) adopted and what was
    // recorded travels with it; gone (Redis restarted empty), everything it
    // held is reported here.
    const hostedNow = [...byId.values()];
    let present: BatchReply[] = [];
    try {
      present = await batch(
        hostedNow.map((s) => ({ command: "EXISTS", args: [keys.session(s.id)] })),
      );
    } catch {
      // Unknown: the recorded part is assumed to travel (the survivors' view).
    }
    hostedNow.forEach((s, i) => {
      // A held end is left to its write's answer, not lost here: its write
      // carries the old owner key, so the end script (the CAS) settles it
      // once cluster-wide. Written before any survivor adopted it → ended
      // here, and nothing is left to adopt; adopted first → fenced (-1) →
      // moved here, and the adopter reports the one end. Reporting "moved"
      // now instead would leave no end at all if the write landed first.
      if (s.endHeld) return;
      const r = present[i];
      lose(s, r?.ok && Number(r.value) === 0 ? "gone" : "moved");
    });
    incarnation = randomBytes(6).toString("hex");
    ownerKey = `${nodeId}#${incarnation}`;
    await lease.register();
  }

  /** The adopt script's answer for one session of a dead owner: hosted here if it won. */
  function adoptedHere(id: string, reply: BatchReply, now: number): BatchOp[] {
    if (!reply.ok) {
      report(SessionStoreErrorCode.RedisWrite, `adopting ${id} failed`, reply.error);
      return [];
    }
    const v = reply.value as unknown[];
    if (Number(v[0]) !== 1) {
      adoptionsLost++;
      return [];
    }
    let auth: TAuth;
    try {
      auth = parseAuth(String(v[3]));
    } catch (error) {
      report(SessionStoreErrorCode.BadRecord, `session ${id}: unreadable auth`, error);
      return [];
    }
    // A copy here from an older epoch is stale: it gives way first.
    const stale = byId.get(id);
    if (stale !== undefined) lose(stale, "moved");
    const s = rebuild(
      id,
      String(v[2]),
      auth,
      String(v[1]),
      undefined,
      Number(v[5]),
      Number(v[6]),
      (v[8] as string[]) ?? [],
    );
    s.adoptedFrom = String(v[4]);
    wait(s, now);
    adopted++;
    call(h().onAdopted, s, s.adoptedFrom);
    return [indexAdd(id)];
  }

  const lease = new NodeLease({
    keys,
    get clock() {
      return clock;
    },
    nodeTtlMs: opts.nodeTtlMs,
    nodeHeartbeatMs: opts.nodeHeartbeatMs,
    adoptBatch: opts.adoptBatch,
    ownerKey: () => ownerKey,
    ttlMs,
    linkUp: () => linkUp && !closed,
    batch,
    command,
    // The attached sessions' keys are refreshed apart, a slice at a time (ttl-refresh.ts).
    heartbeatOps: () => [{ command: "PEXPIRE", args: [keys.index(ownerKey), ttlMs()] }],
    adoptOp: (id, dead, now) => ({
      script: adoptScript,
      keys: [keys.session(id), keys.messages(id)],
      args: [dead, ownerKey, nodeId, now, ttlMs(), h().options.maxUnackedMessages],
    }),
    adopted: adoptedHere,
    leaseLost,
    report,
  });

  // Attached sessions' keys, each at least once per half window (the journal refreshes busy ones too).
  let refresh: TtlRefresh<Session<TData, TAuth>> | undefined;
  const refreshHost: TtlRefreshHost<Session<TData, TAuth>> = {
    get clock() {
      return clock;
    },
    sessions: () => byId.values(),
    count: () => byId.size,
    opsFor: (s) =>
      s.state !== "attached"
        ? undefined
        : [
            { command: "PEXPIRE", args: [keys.session(s.id), ttlMs()] },
            { command: "PEXPIRE", args: [keys.messages(s.id), ttlMs()] },
          ],
    linkUp: () => linkUp && !closed,
    batch,
    failed: (error) =>
      report(SessionStoreErrorCode.RedisWrite, "TTL refresh failed; retried next pass", error),
  };

  // ---- notices from other nodes (takeover-notices.ts) ----

  const notices = new TakeoverNotices(
    redis,
    keys,
    nodeId,
    (n) => {
      if (n.t === "taken") {
        const s = byId.get(n.id);
        // Only a copy older than the take: a notice that arrives late must not drop a newer one.
        if (s !== undefined && Number(s.epoch) < n.ep) lose(s, "moved");
      } else void lease.tick();
    },
    report,
  );

  // ---- the seam ----

  const store: RedisSessionStore<TData, TAuth> = {
    nodeId,
    // Sessions outlive this process: at shutdown a connection's end detaches its session, handed on by `shutdown`.
    durable: true,
    get available() {
      return available;
    },
    start(given) {
      if (started) {
        throw new SessionStoreError(SessionStoreErrorCode.Closed, "start was already called");
      }
      started = true;
      hooks = given;
      clock = given.clock;
      budget.max = given.options.maxUnackedBytesTotal;
      windows = new WindowQueue(clock, given.options.windowMs, (s) => void expire(s));
      waitingSet = new WaitingSessions(
        given.options.maxWaitingPerAddress,
        given.options.maxWaitingPerClient,
      );
      redis.on("ready", onReady);
      redis.on("close", onClose);
      notices.open();
      // The client may have connected (or dropped) between the factory and now.
      linkUp = redis.status === "ready";
      available = linkUp;
      if (linkUp) void lease.ensureRegistered();
      lease.start();
      refresh = new TtlRefresh(refreshHost, Math.max(1, Math.floor(given.options.windowMs / 2)));
      refresh.start();
    },
    open: async (token, auth, owner, address, newSessionId) => {
      const result = await open(token, auth, owner, newSessionId);
      if (result.kind === "created" || result.kind === "resumed") {
        const s = result.session as Session<TData, TAuth>;
        s.address = address;
        s.clientKey = clientKeyOf(s.auth);
      }
      return result;
    },
    release,
    detach,
    end,
    waiting: () => waitingSet?.[Symbol.iterator]() ?? [][Symbol.iterator](),
    hosted: (sessionId) => bySessionId.get(sessionId),
    async shutdown() {
      if (closed) return;
      // Record what is pending, then hand every session over: detached in
      // Redis, and this node's lease ended now, so the next survivor
      // heartbeat adopts them (a notice makes it beat at once).
      const now = clock.now();
      for (const s of byId.values()) {
        if (s.state === "attached" && s.owner !== undefined) {
          s.detachConn = s.owner.connectionId;
          s.detachPending = true;
          s.state = "detached";
          s.owner = undefined;
          s.detachedAt = now;
          journal.dirty.add(s);
        }
      }
      closed = true;
      lease.stop();
      refresh?.stop();
      if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
      try {
        await flushNow();
        await batch([
          lease.leaveOp(),
          { command: "PUBLISH", args: [keys.nodesChannel, leftNotice(ownerKey)] },
        ]);
      } catch (error) {
        report(
          SessionStoreErrorCode.RedisWrite,
          "hand-off at shutdown failed; survivors adopt at the lease's end",
          error,
        );
      }
      // Ends still held (Redis unreachable): not written, so the session is
      // live in Redis and a survivor adopts it and reports its one end.
      for (const s of [...byId.values()]) if (s.endHeld) lose(s, "moved");
      byId.clear();
      bySessionId.clear();
      windows?.clear();
      waitingSet = undefined;
      journal.clear();
      redis.off("ready", onReady);
      redis.off("close", onClose);
      await notices.close();
      setAvailable();
    },
    counts(): SessionStoreCounts {
      return {
        sessions: byId.size - endsHeld,
        detached: waitingSet?.size ?? 0,
        evicted,
        refused,
        adopted,
      };
    },
    stats() {
      return {
        ownerKey,
        batches: counters.batches,
        commands: counters.commands,
        moved,
        dirty: journal.dirty.size,
        adoptionsLost,
        inFlight,
        pending: journal.pending,
      };
    },
  };
  return store;
}

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
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
import type { RedisClient } from "./redis-client.js";
import { type BatchCounters, type BatchOp, type BatchReply, runBatch } from "./session-batch.js";
import { type SessionKeys, sessionKeys } from "./session-keys.js";
import {
  adoptScript,
  createScript,
  detachScript,
  dropScript,
  endScript,
  journalScript,
  nodeForgetScript,
  nodeLeaveScript,
  nodeTickScript,
  takeScript,
} from "./session-scripts.js";
import { type RedisSessionStoreOptions, resolveStoreOptions } from "./session-store-options.js";

/** What `createRedisSessionStore` returns: the seam, plus this store's figures. */
// biome-ignore lint/suspicious/noExplicitAny: as createRedisSessionStore's TAuth
export interface RedisSessionStore<TData = unknown, TAuth = any>
  extends SessionStore<TData, TAuth> {
  /** Round trips and commands sent, and the owner key this node holds sessions under. */
  stats(): RedisSessionStoreStats;
}

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

const sha256 = (secret: string): string => createHash("sha256").update(secret).digest("hex");

function sameHash(a: string, b: string): boolean {
  // Both are 64 hex characters when well formed; timingSafeEqual needs equal lengths.
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function hashFields(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(flat)) {
    for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  } else if (flat !== null && typeof flat === "object") {
    for (const [k, v] of Object.entries(flat)) out[k] = String(v);
  }
  return out;
}

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
  const waitingQueue = new Map<string, Session<TData, TAuth>>();
  // The same sessions under the in-process store's eviction rule (its classes, per address and client).
  let waitingSet: WaitingSessions<Session<TData, TAuth>> | undefined;
  let windowTimer: TimerHandle | undefined;
  let windowTimerAt = Number.POSITIVE_INFINITY;

  const dirty = new Set<Session<TData, TAuth>>();
  let flushScheduled = false;
  let flushing: Promise<void> | undefined;
  let retryTimer: TimerHandle | undefined;
  // Ends decided while Redis was unreachable: written when it is back.
  const pendingEnds: BatchOp[] = [];

  let linkUp = redis.status === "ready";
  let writesFailing = false;
  let available = linkUp;
  let closed = false;
  let started = false;
  let registered = false;
  let tickTimer: TimerHandle | undefined;
  let ticking = false;
  let lastRefreshAt = 0;
  const sweeping = new Set<string>();
  let subscriber: RedisClient | undefined;

  let evicted = 0;
  let refused = 0;
  let adopted = 0;
  let moved = 0;
  let adoptionsLost = 0;
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
    if (registered) void tick();
    else void ensureRegistered();
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
    const s = new HostedSession<TData, TAuth>(sink, id, sessionId, auth, buffer, {
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
    dirty.delete(s);
  }

  /** No longer waiting here (resumed, ended, moved): out of the window queue and the eviction sets. */
  function stopWaiting(s: Session<TData, TAuth>): void {
    if (waitingQueue.get(s.id) === s) waitingQueue.delete(s.id);
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
    waitingQueue.set(s.id, s);
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
    armWindow();
  }

  function armWindow(): void {
    const first = waitingQueue.values().next();
    if (first.done === true) return;
    const at = first.value.detachedAt + h().options.windowMs;
    if (windowTimer !== undefined && windowTimerAt <= at) return;
    if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
    windowTimerAt = at;
    windowTimer = clock.setTimeout(windowsPassed, Math.max(0, at - clock.now()));
  }

  function windowsPassed(): void {
    windowTimer = undefined;
    windowTimerAt = Number.POSITIVE_INFINITY;
    const now = clock.now();
    const windowMs = h().options.windowMs;
    const due: Session<TData, TAuth>[] = [];
    for (const s of waitingQueue.values()) {
      if (s.detachedAt + windowMs > now) break;
      due.push(s);
    }
    for (const s of due) {
      waitingQueue.delete(s.id);
      void expire(s);
    }
    armWindow();
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
        waitingQueue.set(s.id, s);
        scheduleRetry();
      }
    } catch (error) {
      s.ending = false;
      failed("expiry", error);
      // Tried again once Redis answers: back in the queue, due now.
      if (s.state === "detached") {
        waitingQueue.set(s.id, s);
        scheduleRetry();
      }
    }
  }

  /** Reports the end (once) with every message the session still held, and forgets it. */
  function finish(
    s: Session<TData, TAuth>,
    reason: StoredSessionEnd<TData, TAuth>["reason"],
  ): void {
    if (s.state === "ended") return;
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
    if (s.state === "ended") return;
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

  // ---- the journal: one batch per event-loop turn ----

  const sink = {
    markDirty(session: HostedSession<unknown, unknown>): void {
      const s = session as Session<TData, TAuth>;
      if (s.state === "ended") return;
      dirty.add(s);
      scheduleFlush();
    },
  };

  function scheduleFlush(): void {
    if (flushScheduled || (dirty.size === 0 && pendingEnds.length === 0)) return;
    flushScheduled = true;
    const run = (): void => {
      flushScheduled = false;
      void flushNow();
    };
    // After the I/O already read (every frame of this turn marks first), or a microtask.
    if (clock.afterIO !== undefined) clock.afterIO(run);
    else queueMicrotask(run);
  }

  function scheduleRetry(): void {
    if (retryTimer !== undefined || closed) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      scheduleFlush();
      if (waitingQueue.size > 0) windowsPassed();
    }, opts.retryMs);
  }

  function failed(what: string, error: unknown): void {
    if (!writesFailing) {
      writesFailing = true;
      setAvailable();
    }
    report(SessionStoreErrorCode.RedisWrite, `${what} failed; held and retried`, error);
  }

  /** Records every dirty session now (one batch); resolves when that and any batch before it are done. */
  function flushNow(): Promise<void> {
    const previous = flushing ?? Promise.resolve();
    const next = previous.then(flushOnce);
    flushing = next;
    void next.finally(() => {
      if (flushing === next) flushing = undefined;
    });
    return next;
  }

  async function flushOnce(): Promise<void> {
    if (dirty.size === 0 && pendingEnds.length === 0) return;
    if (!linkUp) return; // held; 'ready' flushes
    const sessions = [...dirty];
    dirty.clear();
    const ops: BatchOp[] = [];
    const sent: Array<{
      s: Session<TData, TAuth>;
      epoch: string;
      rs: number;
      as: number;
      n: number;
      proven: boolean;
      detach: boolean;
      at: number;
    }> = [];
    const ttl = ttlMs();
    for (const s of sessions) {
      if (s.state === "ended") continue;
      const n = s.unacked.unrecorded.length;
      const entry = {
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
      ops.push({
        script: journalScript,
        keys: [keys.session(s.id), keys.messages(s.id)],
        args: [
          ownerKey,
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
          keys: [keys.session(s.id), keys.messages(s.id)],
          args: [ownerKey, s.epoch, s.detachConn ?? "", entry.at, ttl],
        });
      }
    }
    const ends = pendingEnds.splice(0);
    ops.push(...ends);
    let replies: BatchReply[];
    try {
      replies = await batch(ops);
    } catch (error) {
      for (const e of sent) if (e.s.state !== "ended") dirty.add(e.s);
      pendingEnds.unshift(...ends);
      failed("journal batch", error);
      scheduleRetry();
      return;
    }
    let i = 0;
    let anyFailed: Error | undefined;
    for (const e of sent) {
      const s = e.s;
      const r = replies[i++]!;
      const d = e.detach ? replies[i++]! : undefined;
      if (s.state === "ended") continue;
      if (!r.ok || (d !== undefined && !d.ok)) {
        anyFailed = r.ok ? (d as { error: Error }).error : r.error;
        dirty.add(s);
        continue;
      }
      const code = Number(r.value);
      if (code < 0) {
        // Refused at an epoch this node has since left behind (it resumed
        // the session again here): not a fence, write again at the new one.
        if (s.epoch !== e.epoch) {
          dirty.add(s);
          continue;
        }
        lose(s, code === -1 ? "moved" : "gone");
        continue;
      }
      const before = s.recordedIn + s.recordedOut;
      s.unacked.unrecorded.splice(0, e.n);
      s.recordedOut += e.n;
      s.recordedIn = Math.max(s.recordedIn, e.rs);
      s.recordedAcked = Math.max(s.recordedAcked, e.as);
      if (e.proven) s.provenPending = false;
      if (e.detach && s.detachedAt === e.at) s.detachPending = false;
      if (s.recordedIn + s.recordedOut !== before) call(s.onRecorded);
    }
    for (let k = 0; k < ends.length; k++) {
      const r = replies[i++]!;
      if (!r.ok) {
        anyFailed = r.error;
        pendingEnds.push(ends[k]!);
      }
    }
    if (anyFailed !== undefined) {
      failed("journal batch", anyFailed);
      scheduleRetry();
    } else if (writesFailing) {
      writesFailing = false;
      setAvailable();
    }
    if (dirty.size > 0 || pendingEnds.length > 0) scheduleFlush();
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
      const s = new HostedSession<TData, TAuth>(sink, id, sessionId, auth, newBuffer(0), {
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
    { kind: "failed"; failure: ResumeFailure } | { kind: "ok"; result: OpenResult<TData, TAuth> }
  > {
    const o = h().options;
    const presented = sha256(secret);
    for (let attempt = 0; attempt < 5; attempt++) {
      const local = byId.get(id);
      // A local journal must be in Redis before the session moves to a new epoch.
      if (local !== undefined && (dirty.has(local) || flushing !== undefined)) await flushNow();
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
      const notices: BatchOp[] = [indexAdd(id)];
      if (oldNode !== nodeId) {
        // The node that held it closes its connection 4409 (or drops its waiting copy) at once.
        notices.push({
          command: "PUBLISH",
          args: [keys.nodeChannel(oldNode), JSON.stringify({ t: "taken", id, ep: Number(epoch) })],
        });
      }
      void batch(notices).catch((e) => failed("takeover notice", e));
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
    return { kind: "failed", failure: ResumeFailure.Unknown };
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
    sink.markDirty(s as HostedSession<unknown, unknown>);
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
      pendingEnds.push(op);
      failed("release", error);
      scheduleRetry();
    }
  }

  /**
   * Ends a hosted session here: Redis first (the script makes it once
   * cluster-wide), then the report. Unreachable Redis: reported at once
   * (nothing waits on Redis to be told), the write held and retried.
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
      pendingEnds.push(op);
      failed("end", error);
      scheduleRetry();
      code = 1;
    }
    s.ending = false;
    if (code === 1 || code === -2) {
      finish(s, reason);
      return true;
    }
    if (code === -1) lose(s, "moved");
    return false;
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

  // ---- node liveness and adoption ----

  async function tick(): Promise<void> {
    if (ticking || closed || !started || !linkUp || !registered) return;
    ticking = true;
    try {
      const now = clock.now();
      const ops: BatchOp[] = [
        {
          script: nodeTickScript,
          keys: [keys.registry],
          args: [ownerKey, now, opts.nodeTtlMs, "tick"],
        },
        { command: "PEXPIRE", args: [keys.index(ownerKey), ttlMs()] },
      ];
      // Attached sessions' keys, refreshed every half window (their journal refreshes busy ones anyway).
      const refresh = now - lastRefreshAt >= h().options.windowMs / 2;
      if (refresh) {
        lastRefreshAt = now;
        for (const s of byId.values()) {
          if (s.state !== "attached") continue;
          ops.push({ command: "PEXPIRE", args: [keys.session(s.id), ttlMs()] });
          ops.push({ command: "PEXPIRE", args: [keys.messages(s.id), ttlMs()] });
        }
      }
      const replies = await batch(ops);
      if (!replies[0]!.ok) throw replies[0]!.error;
      const v = replies[0]!.value as unknown[];
      if (Number(v[0]) === -1) {
        await leaseLost();
        return;
      }
      for (const dead of v.slice(1)) void sweep(String(dead));
    } catch (error) {
      report(SessionStoreErrorCode.RedisWrite, "node heartbeat failed", error);
    } finally {
      ticking = false;
    }
  }

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
      const r = present[i];
      lose(s, r?.ok && Number(r.value) === 0 ? "gone" : "moved");
    });
    incarnation = randomBytes(6).toString("hex");
    ownerKey = `${nodeId}#${incarnation}`;
    await register();
  }

  /** The first registration (at start, or at the first "ready" when Redis was not there yet). */
  async function ensureRegistered(): Promise<void> {
    if (registered || closed) return;
    try {
      await register();
    } catch (error) {
      report(SessionStoreErrorCode.RedisWrite, "node registration failed", error);
    }
  }

  async function register(): Promise<void> {
    const [r] = await batch([
      {
        script: nodeTickScript,
        keys: [keys.registry],
        args: [ownerKey, clock.now(), opts.nodeTtlMs, "start"],
      },
    ]);
    if (!r!.ok) throw r!.error;
    registered = true;
  }

  /** Adopts every session of a dead owner that is still its own (the script decides, once each). */
  async function sweep(dead: string): Promise<void> {
    if (sweeping.has(dead) || closed) return;
    sweeping.add(dead);
    try {
      const hk = h();
      const o = hk.options;
      const ids = ((await command("SMEMBERS", keys.index(dead))) as string[]) ?? [];
      for (let i = 0; i < ids.length; i += opts.adoptBatch) {
        const chunk = ids.slice(i, i + opts.adoptBatch);
        const now = clock.now();
        const ops: BatchOp[] = chunk.map((id) => ({
          script: adoptScript,
          keys: [keys.session(id), keys.messages(id)],
          args: [dead, ownerKey, nodeId, now, ttlMs(), o.maxUnackedMessages],
        }));
        const replies = await batch(ops);
        const mine: BatchOp[] = [];
        chunk.forEach((id, k) => {
          const r = replies[k]!;
          if (!r.ok) {
            report(SessionStoreErrorCode.RedisWrite, `adopting ${id} failed`, r.error);
            return;
          }
          const v = r.value as unknown[];
          if (Number(v[0]) !== 1) {
            adoptionsLost++;
            return;
          }
          let auth: TAuth;
          try {
            auth = parseAuth(String(v[3]));
          } catch (error) {
            report(SessionStoreErrorCode.BadRecord, `session ${id}: unreadable auth`, error);
            return;
          }
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
          mine.push(indexAdd(id));
          call(hk.onAdopted, s, s.adoptedFrom);
        });
        mine.push({ command: "SREM", args: [keys.index(dead), ...chunk] });
        await batch(mine);
      }
      const left = Number(await command("SCARD", keys.index(dead)));
      if (left === 0) {
        await batch([
          { script: nodeForgetScript, keys: [keys.registry], args: [dead, clock.now()] },
        ]);
      }
    } catch (error) {
      report(SessionStoreErrorCode.RedisWrite, `adopting the sessions of ${dead} failed`, error);
    } finally {
      sweeping.delete(dead);
    }
  }

  function scheduleTick(): void {
    tickTimer = clock.setTimeout(() => {
      if (closed) return;
      scheduleTick();
      void tick();
    }, opts.nodeHeartbeatMs);
  }

  // ---- notices from other nodes ----

  function onNotice(_channel: string, message: string): void {
    let n: { t?: string; id?: string; ep?: number };
    try {
      n = JSON.parse(message) as typeof n;
    } catch {
      return;
    }
    if (n.t === "taken" && typeof n.id === "string") {
      const s = byId.get(n.id);
      // Only a copy older than the take: a notice that arrives late must not drop a newer one.
      if (s !== undefined && Number(s.epoch) < Number(n.ep)) lose(s, "moved");
    } else if (n.t === "left") {
      void tick();
    }
  }

  function subscribe(): void {
    const sub = redis.duplicate();
    subscriber = sub;
    const channels = [keys.nodeChannel(nodeId), keys.nodesChannel];
    const join = (): void => {
      // Idempotent: ioredis also resubscribes by itself after a reconnect.
      void (async () => {
        try {
          for (const channel of channels) await sub.subscribe(channel);
        } catch (error) {
          // Tried again at the duplicate's next "ready"; meanwhile a missed
          // notice is made good by fencing (the old holder's next write is refused).
          report(SessionStoreErrorCode.RedisWrite, "subscribing to takeover notices failed", error);
        }
      })();
    };
    sub.on("error", () => {
      // ioredis reconnects by itself; failures that matter are reported above.
    });
    sub.on("message", onNotice);
    sub.on("ready", join);
    if (sub.status === "ready") join();
  }

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
      waitingSet = new WaitingSessions(
        given.options.maxWaitingPerAddress,
        given.options.maxWaitingPerClient,
      );
      lastRefreshAt = clock.now();
      redis.on("ready", onReady);
      redis.on("close", onClose);
      subscribe();
      // The client may have connected (or dropped) between the factory and now.
      linkUp = redis.status === "ready";
      available = linkUp;
      if (linkUp) void ensureRegistered();
      scheduleTick();
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
          dirty.add(s);
        }
      }
      closed = true;
      if (tickTimer !== undefined) clock.clearTimeout(tickTimer);
      if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
      if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
      try {
        await flushNow();
        await batch([
          { script: nodeLeaveScript, keys: [keys.registry], args: [ownerKey] },
          {
            command: "PUBLISH",
            args: [keys.nodesChannel, JSON.stringify({ t: "left", own: ownerKey })],
          },
        ]);
      } catch (error) {
        report(
          SessionStoreErrorCode.RedisWrite,
          "hand-off at shutdown failed; survivors adopt at the lease's end",
          error,
        );
      }
      byId.clear();
      bySessionId.clear();
      waitingQueue.clear();
      waitingSet = undefined;
      dirty.clear();
      redis.off("ready", onReady);
      redis.off("close", onClose);
      const sub = subscriber;
      subscriber = undefined;
      if (sub !== undefined) {
        try {
          await sub.quit();
        } catch {
          sub.disconnect();
        }
      }
      setAvailable();
    },
    counts(): SessionStoreCounts {
      return {
        sessions: byId.size,
        detached: waitingQueue.size,
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
        dirty: dirty.size,
        adoptionsLost,
        inFlight,
        pending: dirty.size + pendingEnds.length + (flushScheduled ? 1 : 0),
      };
    },
  };
  return store;
}

import { type Clock, ResumeFailure, rethrowLater, type TimerHandle } from "@heartline/protocol";
import { type Deadlined, DeadlineQueue } from "../deadline-queue.js";
import { Fifo } from "../fifo.js";
import type { ResolvedResumeOptions } from "./resolved-options.js";
import type {
  OpenResult,
  SessionOwner,
  SessionStore,
  SessionStoreCounts,
  SessionStoreHooks,
  StoredEndCause,
  StoredSession,
  StoredSessionState,
} from "./store-api.js";
import { ID_BYTES, parseToken, randomBase64url } from "./token.js";
import { TokenSecrets } from "./token-check.js";
import { type ByteBudget, UnackedBuffer } from "./unacked-buffer.js";
import { evictionClass, type WaitingSession, WaitingSessions } from "./waiting-sessions.js";

/** `createMemorySessionStore`'s options. */
export interface MemorySessionStoreOptions {
  /** The owners' `nodeId`: one process, so any name does. Default `"local"`. */
  readonly nodeId?: string;
}

/** The in-process store's defaults. */
export const memorySessionStoreDefaults = Object.freeze({ nodeId: "local" });

/** Two owners are the same connection: compared by value, never by object. */
export function sameOwner(a: SessionOwner | undefined, b: SessionOwner | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.nodeId === b.nodeId && a.connectionId === b.connectionId
  );
}

class MemorySession<TData, TAuth>
  implements StoredSession<TData, TAuth>, Deadlined, WaitingSession
{
  receivedSeq = 0;
  evictionClass = 0;
  owner: SessionOwner | undefined;
  state: StoredSessionState = "attached";
  /** Made by `open` and not yet taken or detached: `release` drops it unreported. */
  fresh = true;
  /** Set by the connection; never called here (everything is recorded at once). */
  onRecorded: (() => void) | undefined = undefined;
  /** The token check's secrets (current and previous), never on the session itself. */
  readonly secrets = new TokenSecrets();
  // For the window's deadline queue: `lastHeardAt` is when the session was
  // detached (its window ends windowMs later), `queueSlot` is the queue's.
  lastHeardAt = 0;
  queueSlot = -1;

  constructor(
    readonly store: MemoryStore<TData, TAuth>,
    readonly id: string,
    readonly sessionId: string,
    readonly auth: TAuth,
    readonly unacked: UnackedBuffer<TData>,
    owner: SessionOwner,
    readonly address: string | undefined,
    readonly clientKey: string | undefined,
  ) {
    this.owner = owner;
  }

  // In one process the session is its own record: what is received or sent
  // is recorded the moment it happens, so nothing ever waits on the journal.
  get recordedIn(): number {
    return this.receivedSeq;
  }

  get recordedOut(): number {
    return this.unacked.lastSeq;
  }

  received(): void {}
  sent(): void {}
  acked(): void {}

  tokenProven(): void {
    this.secrets.proven();
  }

  deadlinePassed(): void {
    this.store.windowPassed(this);
  }
}

/**
 * The in-process session store: resumable sessions in this process's
 * memory (they cannot outlive it), transport-free and synchronous (every
 * call answers at once, so admission never waits on it).
 *
 * - `open` resumes the session a token names (token checked in constant
 *   time, rotated; the presented one spent once the new connection proves
 *   alive) or creates one; `detach` starts the window when a connection
 *   ends and the session stays resumable, `end` ends it at once. Each end
 *   is reported once (`onEnd`) with the undelivered messages.
 * - Windows run on one deadline queue (one clock timer for all detached
 *   sessions), tombstones on a FIFO with one more timer: none per session.
 * - Bounded: `maxSessions` sessions, `maxUnackedBytesTotal` bytes across
 *   their buffers, at most `maxSessions` tombstones (past that the oldest
 *   is forgotten early and its id answers `unknown`).
 */
class MemoryStore<TData, TAuth> implements SessionStore<TData, TAuth> {
  readonly nodeId: string;
  readonly available = true;
  #options!: ResolvedResumeOptions;
  #hooks!: SessionStoreHooks<TData, TAuth>;
  #clock!: Clock;
  #budget!: ByteBudget;
  #windows!: DeadlineQueue<MemorySession<TData, TAuth>>;
  #waiting!: WaitingSessions<MemorySession<TData, TAuth>>;
  /** By token id (what a token names). */
  readonly #sessions = new Map<string, MemorySession<TData, TAuth>>();
  /** The same sessions by the application's session id (`hosted`). */
  readonly #byName = new Map<string, MemorySession<TData, TAuth>>();
  #evicted = 0;
  #refused = 0;
  // Tombstones: id → why it ended, and a FIFO of (id, forget-at) in end
  // order, which is forget-at order since every tombstone lasts windowMs.
  readonly #tombstones = new Map<string, ResumeFailure>();
  readonly #tombIds = new Fifo<string>("");
  readonly #tombUntil = new Fifo<number>(0);
  #tombTimer: TimerHandle | undefined;
  readonly #forgetTombstones = (): void => {
    this.#tombTimer = undefined;
    this.#dropTombstones(this.#clock.now());
  };

  constructor(nodeId: string) {
    this.nodeId = nodeId;
  }

  start(hooks: SessionStoreHooks<TData, TAuth>): void {
    if (this.#hooks !== undefined)
      throw new Error("a session store is started once, by one server");
    this.#hooks = hooks;
    this.#options = hooks.options;
    this.#clock = hooks.clock;
    this.#budget = { used: 0, max: hooks.options.maxUnackedBytesTotal };
    this.#windows = new DeadlineQueue(this.#clock, hooks.options.windowMs);
    this.#waiting = new WaitingSessions(
      hooks.options.maxWaitingPerAddress,
      hooks.options.maxWaitingPerClient,
    );
  }

  counts(): SessionStoreCounts {
    return {
      sessions: this.#sessions.size,
      detached: this.#windows.size,
      evicted: this.#evicted,
      refused: this.#refused,
      adopted: 0,
    };
  }

  /**
   * A token offered is checked, in order: a well-formed token of a session
   * held (else `expired` or `overflow` from its tombstone, or `unknown`),
   * the secret in constant time (else `unknown`: a spent token looks like
   * none), the window (a session whose window has run out by now is
   * expired here, whether or not its timer has fired yet), then
   * `sameClient` (else `mismatch`). Every refusal leaves the session
   * untouched, so a stolen or replayed token costs its rightful holder
   * nothing. A resume returns a new token; the presented one still resumes
   * until the new connection proves alive (a takeover of that unproven
   * connection), since a client that gave the attempt up never read it.
   * Otherwise a new session; at `maxSessions` a waiting one gives way first
   * (`evicted`, by the eviction rule), and with none waiting: plain v1.
   */
  open(
    token: string | undefined,
    auth: TAuth,
    owner: SessionOwner,
    address: string | undefined,
    newSessionId: () => string,
  ): OpenResult<TData, TAuth> {
    let failure: ResumeFailure | undefined;
    if (token !== undefined) {
      const taken = this.#take(token, auth, owner);
      if (taken.kind === "failed") failure = taken.failure;
      else return taken;
    }
    if (this.#sessions.size >= this.#options.maxSessions) {
      const victim = this.#waiting.next();
      if (victim === undefined) {
        this.#refused++;
        return failure === undefined ? PLAIN : { kind: "plain", failure };
      }
      this.#evict(victim);
    }
    let id = randomBase64url(ID_BYTES);
    // 72 random bits: a repeat is astronomically rare, but an id must never
    // point at two sessions (nor at a tombstone of another).
    while (this.#sessions.has(id) || this.#tombstones.has(id)) id = randomBase64url(ID_BYTES);
    const unacked = new UnackedBuffer<TData>({
      maxMessages: this.#options.maxUnackedMessages,
      maxBytes: this.#options.maxUnackedBytes,
      shared: this.#budget,
    });
    const session = new MemorySession(
      this,
      id,
      newSessionId(),
      auth,
      unacked,
      owner,
      address,
      this.#clientKey(auth),
    );
    this.#sessions.set(id, session);
    this.#byName.set(session.sessionId, session);
    const created = { kind: "created" as const, session, token: session.secrets.rotate(id) };
    return failure === undefined ? created : { ...created, failure };
  }

  #take(
    token: string,
    auth: TAuth,
    owner: SessionOwner,
  ): OpenResult<TData, TAuth> | { kind: "failed"; failure: ResumeFailure } {
    const parsed = parseToken(token);
    if (parsed === undefined) return { kind: "failed", failure: ResumeFailure.Unknown };
    const session = this.#sessions.get(parsed.id);
    if (session === undefined) {
      return { kind: "failed", failure: this.#tombstones.get(parsed.id) ?? ResumeFailure.Unknown };
    }
    const presented = session.secrets.matches(parsed.secret);
    if (presented === "") return { kind: "failed", failure: ResumeFailure.Unknown };
    const now = this.#clock.now();
    if (session.state === "detached" && now >= session.lastHeardAt + this.#options.windowMs) {
      this.windowPassed(session);
      return { kind: "failed", failure: ResumeFailure.Expired };
    }
    if (!this.#options.sameClient(session.auth, auth)) {
      return { kind: "failed", failure: ResumeFailure.Mismatch };
    }
    const replaced = session.owner;
    const gapMs = session.state === "detached" ? now - session.lastHeardAt : 0;
    this.#windows.remove(session);
    this.#waiting.remove(session);
    session.state = "attached";
    session.owner = owner;
    session.fresh = false;
    // The presented secret stays valid until the new connection proves alive.
    return {
      kind: "resumed",
      session,
      token: session.secrets.rotate(session.id, presented),
      replaced,
      gapMs,
    };
  }

  release(session: StoredSession<TData, TAuth>, owner: SessionOwner): void {
    const s = session as MemorySession<TData, TAuth>;
    if (s.state !== "attached" || !sameOwner(s.owner, owner)) return;
    if (!s.fresh) {
      // A resume whose welcome was never written: it waits again, and the
      // token the client presented (all it holds) still works.
      this.detach(s, owner);
      return;
    }
    // Nobody ever heard of it: gone without a report.
    this.#sessions.delete(s.id);
    if (this.#byName.get(s.sessionId) === s) this.#byName.delete(s.sessionId);
    s.state = "ended";
    s.owner = undefined;
    s.secrets.forget();
    s.unacked.drain();
  }

  detach(session: StoredSession<TData, TAuth>, owner: SessionOwner): boolean {
    const s = session as MemorySession<TData, TAuth>;
    if (s.state !== "attached" || !sameOwner(s.owner, owner)) return false;
    s.state = "detached";
    s.owner = undefined;
    s.fresh = false;
    s.lastHeardAt = this.#clock.now();
    this.#windows.add(s);
    s.evictionClass = evictionClass(
      s.auth !== undefined && s.auth !== null,
      s.receivedSeq > 0 || s.unacked.nextSeq > 1,
    );
    this.#waiting.add(s);
    // One address or client over its bound: its oldest waiter gives way (this one only if it is the oldest).
    for (let victim = this.#waiting.overBound(s); victim !== undefined; ) {
      this.#evict(victim);
      victim = this.#waiting.overBound(s);
    }
    return true;
  }

  /**
   * `overflow` leaves a tombstone so the next resume hears `overflow`; a
   * deliberate end leaves none (`unknown`, as the contract says).
   */
  end(session: StoredSession<TData, TAuth>, reason: StoredEndCause, owner?: SessionOwner): boolean {
    const s = session as MemorySession<TData, TAuth>;
    if (s.state === "ended" || s.store !== this) return false;
    if (owner !== undefined && !sameOwner(s.owner, owner)) return false;
    this.#finish(s, reason);
    return true;
  }

  waiting(): Iterable<StoredSession<TData, TAuth>> {
    return this.#waiting;
  }

  hosted(sessionId: string): StoredSession<TData, TAuth> | undefined {
    return this.#byName.get(sessionId);
  }

  /**
   * Sessions kept in this process's memory cannot outlive it: every one
   * ends now (`server_closed`), each reported once with its undelivered messages.
   */
  shutdown(): Promise<void> {
    for (const session of [...this.#sessions.values()]) this.#finish(session, "server_closed");
    return Promise.resolve();
  }

  /** @internal The window passed (from the deadline queue, or found by `open`). */
  windowPassed(session: MemorySession<TData, TAuth>): void {
    if (session.state === "detached") this.#finish(session, "expired");
  }

  #finish(s: MemorySession<TData, TAuth>, reason: StoredEndCause | "expired" | "evicted"): void {
    const now = this.#clock.now();
    this.#windows.remove(s);
    this.#waiting.remove(s);
    this.#sessions.delete(s.id);
    if (this.#byName.get(s.sessionId) === s) this.#byName.delete(s.sessionId);
    s.state = "ended";
    s.owner = undefined;
    s.secrets.forget();
    const undelivered = s.unacked.drain();
    if (reason === "expired" || reason === "overflow") {
      this.#bury(s.id, reason === "expired" ? ResumeFailure.Expired : ResumeFailure.Overflow, now);
    }
    try {
      this.#hooks.onEnd({ sessionId: s.sessionId, reason, auth: s.auth, undelivered, at: now });
    } catch (error) {
      // Never let a listener break the queue's loop or the store's state;
      // never swallow it either (the shared policy's last resort).
      rethrowLater(error);
    }
  }

  /** A waiting session gives way: ended and reported `evicted`, no tombstone (a resume hears `unknown`). */
  #evict(session: MemorySession<TData, TAuth>): void {
    this.#evicted++;
    this.#finish(session, "evicted");
  }

  #clientKey(auth: TAuth): string | undefined {
    const clientOf = this.#options.clientOf;
    if (clientOf === undefined) return undefined;
    try {
      return clientOf(auth);
    } catch (error) {
      // No bound for this session rather than no session; the throw is not swallowed.
      rethrowLater(error);
      return undefined;
    }
  }

  #bury(id: string, failure: ResumeFailure, now: number): void {
    if (this.#tombstones.size >= this.#options.maxSessions) {
      // At the bound the oldest tombstone goes early: its id answers unknown.
      this.#tombstones.delete(this.#tombIds.shift()!);
      this.#tombUntil.shift();
    }
    this.#tombstones.set(id, failure);
    this.#tombIds.push(id);
    this.#tombUntil.push(now + this.#options.windowMs);
    if (this.#tombTimer === undefined) this.#armTombstones(now);
  }

  #dropTombstones(now: number): void {
    const ids = this.#tombIds;
    const until = this.#tombUntil;
    while (ids.size > 0 && until.peek()! <= now) {
      this.#tombstones.delete(ids.shift()!);
      until.shift();
    }
    this.#armTombstones(now);
  }

  #armTombstones(now: number): void {
    if (this.#tombTimer !== undefined || this.#tombIds.size === 0) return;
    const next = this.#tombUntil.peek()!;
    this.#tombTimer = this.#clock.setTimeout(this.#forgetTombstones, Math.max(0, next - now));
  }
}

const PLAIN = Object.freeze({ kind: "plain" as const });

/**
 * The in-process session store, the server's default (`resume.store`):
 * sessions live in this process and end with it (`server_closed` at
 * `close()`). Synchronous throughout, and it records at once
 * (`recordedIn` is `receivedSeq`, `recordedOut` the last seq pushed), so
 * nothing waits on it. One store serves one server.
 */
export function createMemorySessionStore<TData = unknown, TAuth = unknown>(
  options: MemorySessionStoreOptions = {},
): SessionStore<TData, TAuth> {
  return new MemoryStore<TData, TAuth>(options.nodeId ?? memorySessionStoreDefaults.nodeId);
}

import {
  type Clock,
  ResumeFailure,
  rethrowLater,
  systemClock,
  type TimerHandle,
} from "@heartline/protocol";
import { type Deadlined, DeadlineQueue } from "../deadline-queue.js";
import { Fifo } from "../fifo.js";
import type { ResolvedResumeOptions } from "./options.js";
import type { SessionEndReason } from "./resume-api.js";
import { ID_BYTES, parseToken, randomBase64url } from "./token.js";
import { TokenSecrets } from "./token-check.js";
import { type ByteBudget, UnackedBuffer, type UnackedMessage } from "./unacked-buffer.js";
import { evictionClass, type WaitingSession, WaitingSessions } from "./waiting-sessions.js";

/**
 * What `end` may be given: `overflow`, or the disconnect reason of the
 * deliberate end that made it (the `sessionEnd` event says which end it
 * was). `expired` and `evicted` are the store's own.
 */
export type SessionEndCause = Exclude<SessionEndReason, "expired" | "evicted">;

export interface SessionEnd<TData = unknown, TAuth = unknown> {
  readonly sessionId: string;
  readonly reason: SessionEndReason;
  /** The session's `auth` (what `authenticate` returned for the connection that created it). */
  readonly auth: TAuth;
  /** Every message the server still held unacknowledged, in order: never delivered, or not known to be. */
  readonly undelivered: ReadonlyArray<UnackedMessage<TData>>;
  /** Clock time of the end. */
  readonly at: number;
}

export type SessionState = "attached" | "detached" | "ended";

/** A resumable session as the integrator sees it. The token's secret is not on it. */
export interface ResumableSession<TData = unknown, TAuth = unknown, TOwner = unknown> {
  /** The application's session id (the `welcome`'s `sessionId`), the same on every connection. */
  readonly sessionId: string;
  /** What `authenticate` returned for the connection that created it. */
  readonly auth: TAuth;
  /** Server → client messages not acknowledged yet: push on send, ack on `ack`, replay on resume. */
  readonly unacked: UnackedBuffer<TData>;
  /**
   * The highest client message `seq` received in this session (0: none):
   * `welcome.resumed.ack`, and the line below which a client message is a
   * duplicate. The connection advances it as it delivers.
   */
  receivedSeq: number;
  /** The connection holding the session, or undefined while detached or ended. */
  readonly owner: TOwner | undefined;
  readonly state: SessionState;
  /**
   * The connection that was sent the current token has proved alive (its
   * first data frame arrived): the previous token stops working. Called
   * once per resumed connection, by that connection; a no-op otherwise.
   */
  tokenProven(): void;
}

export type TakeResult<TData, TAuth, TOwner> =
  | {
      readonly ok: true;
      readonly session: ResumableSession<TData, TAuth, TOwner>;
      /** The token for this connection's `welcome.resume` (the one presented is spent). */
      readonly token: string;
      /**
       * The connection that held the session until now (a takeover before the
       * server noticed it was dead): close it with 4409, reason `replaced`.
       */
      readonly replaced: TOwner | undefined;
      /** How long the session had been detached (0 for a takeover). */
      readonly gapMs: number;
    }
  | { readonly ok: false; readonly failure: ResumeFailure };

/**
 * What the store reports to and runs on, beside its bounds (the resolved
 * `resume` option, `resolveResumeOptions`: the defaults are applied there, once).
 */
export interface SessionStoreHooks<TData, TAuth> {
  /**
   * The end of a session, once, with the undelivered messages' data. A throw
   * here does not disturb the store: it is rethrown on a microtask.
   */
  readonly onEnd?: ((end: SessionEnd<TData, TAuth>) => void) | undefined;
  readonly clock?: Clock | undefined;
}

class Session<TData, TAuth, TOwner>
  implements ResumableSession<TData, TAuth, TOwner>, Deadlined, WaitingSession
{
  receivedSeq = 0;
  evictionClass = 0;
  owner: TOwner | undefined;
  state: SessionState = "attached";
  /** The token check's secrets (current and previous), never on the session itself. */
  readonly secrets = new TokenSecrets();
  // For the window's deadline queue: `lastHeardAt` is when the session was
  // detached (its window ends windowMs later), `queueSlot` is the queue's.
  lastHeardAt = 0;
  queueSlot = -1;

  constructor(
    readonly store: SessionStore<TData, TAuth, TOwner>,
    readonly id: string,
    readonly sessionId: string,
    readonly auth: TAuth,
    readonly unacked: UnackedBuffer<TData>,
    owner: TOwner,
    readonly address: string | undefined,
    readonly clientKey: string | undefined,
  ) {
    this.owner = owner;
  }

  tokenProven(): void {
    this.secrets.proven();
  }

  deadlinePassed(): void {
    this.store.windowPassed(this);
  }
}

export interface SessionStoreStats {
  /** Sessions held: attached or in their window. */
  readonly sessions: number;
  /** Of those, in their window (no connection). */
  readonly detached: number;
  /** Ended sessions still told apart from unknown ones (`expired`, `overflow`). */
  readonly tombstones: number;
  /** Bytes held unacknowledged across all sessions. */
  readonly unackedBytes: number;
  /** Sessions evicted since start (each also ended and reported, reason `evicted`). */
  readonly evicted: number;
  /** `create` calls answered with no session (table full, nobody waiting to evict). */
  readonly refused: number;
}

/**
 * The server's registry of resumable sessions, transport-free.
 *
 * - `create` makes a session for a new connection, `take` gives one to a
 *   resuming connection (token checked in constant time, rotated; spent
 *   once the new connection proves alive),
 *   `detach` starts the window when a connection ends and the session stays
 *   resumable, `end` ends it at once. Each end is reported once (`onEnd`)
 *   with the undelivered messages.
 * - Windows run on one deadline queue (one clock timer for all detached
 *   sessions), tombstones on a FIFO with one more timer: none per session.
 * - Bounded: `maxSessions` sessions, `maxUnackedBytesTotal` bytes across
 *   their buffers, at most `maxSessions` tombstones (past that the oldest
 *   is forgotten early and its id answers `unknown`).
 */
export class SessionStore<TData = unknown, TAuth = unknown, TOwner = unknown> {
  readonly windowMs: number;
  readonly maxSessions: number;
  readonly #maxUnackedMessages: number;
  readonly #maxUnackedBytes: number;
  readonly #budget: ByteBudget;
  readonly #sameClient: (sessionAuth: TAuth, newAuth: TAuth) => boolean;
  readonly #onEnd: ((end: SessionEnd<TData, TAuth>) => void) | undefined;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, Session<TData, TAuth, TOwner>>();
  readonly #windows: DeadlineQueue<Session<TData, TAuth, TOwner>>;
  readonly #waiting: WaitingSessions<Session<TData, TAuth, TOwner>>;
  readonly #clientOf: ((auth: TAuth) => string | undefined) | undefined;
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

  constructor(options: ResolvedResumeOptions, hooks: SessionStoreHooks<TData, TAuth> = {}) {
    this.windowMs = options.windowMs;
    this.maxSessions = options.maxSessions;
    this.#maxUnackedMessages = options.maxUnackedMessages;
    this.#maxUnackedBytes = options.maxUnackedBytes;
    this.#budget = { used: 0, max: options.maxUnackedBytesTotal };
    this.#sameClient = options.sameClient;
    this.#onEnd = hooks.onEnd;
    this.#clock = hooks.clock ?? systemClock;
    this.#windows = new DeadlineQueue(this.#clock, this.windowMs);
    this.#waiting = new WaitingSessions(options.maxWaitingPerAddress, options.maxWaitingPerClient);
    this.#clientOf = options.clientOf as ((auth: TAuth) => string | undefined) | undefined;
  }

  stats(): SessionStoreStats {
    return {
      sessions: this.#sessions.size,
      detached: this.#windows.size,
      tombstones: this.#tombstones.size,
      unackedBytes: this.#budget.used,
      evicted: this.#evicted,
      refused: this.#refused,
    };
  }

  /**
   * A new resumable session held by `owner` (connected from `address`), and
   * the token for its `welcome.resume`. At `maxSessions` a waiting session
   * gives way first (`evicted`, by the eviction rule); when none waits (every
   * session held is live) undefined: serve the connection as plain v1, no
   * `resume` in its welcome.
   */
  create(
    sessionId: string,
    auth: TAuth,
    owner: TOwner,
    address?: string,
  ): { session: ResumableSession<TData, TAuth, TOwner>; token: string } | undefined {
    if (this.#sessions.size >= this.maxSessions) {
      const victim = this.#waiting.next();
      if (victim === undefined) {
        this.#refused++;
        return undefined;
      }
      this.#evict(victim);
    }
    let id = randomBase64url(ID_BYTES);
    // 72 random bits: a repeat is astronomically rare, but an id must never
    // point at two sessions (nor at a tombstone of another).
    while (this.#sessions.has(id) || this.#tombstones.has(id)) id = randomBase64url(ID_BYTES);
    const unacked = new UnackedBuffer<TData>({
      maxMessages: this.#maxUnackedMessages,
      maxBytes: this.#maxUnackedBytes,
      shared: this.#budget,
    });
    const session = new Session(
      this,
      id,
      sessionId,
      auth,
      unacked,
      owner,
      address,
      this.#clientKey(auth),
    );
    this.#sessions.set(id, session);
    return { session, token: session.secrets.rotate(id) };
  }

  /**
   * Resumes the session of `token` on `owner`. Checks, in order: a
   * well-formed token of a session held (else `expired` or `overflow` from
   * its tombstone, or `unknown`), the secret in constant time (else
   * `unknown`: a spent token looks like none), then `sameClient` (else
   * `mismatch`). Every refusal leaves the session untouched, so a stolen or
   * replayed token costs its rightful holder nothing. On success a new
   * token is returned and the presented one is spent once the new
   * connection proves alive (`tokenProven`, its first data frame): until
   * then it still resumes (a takeover of that unproven connection), since
   * a client that gave the attempt up never read the new token. A session
   * whose window has run out by now is expired here, whether or not its
   * timer has fired yet.
   */
  take(token: string | undefined, auth: TAuth, owner: TOwner): TakeResult<TData, TAuth, TOwner> {
    const parsed = parseToken(token);
    if (parsed === undefined) return { ok: false, failure: ResumeFailure.Unknown };
    const session = this.#sessions.get(parsed.id);
    if (session === undefined) {
      return { ok: false, failure: this.#tombstones.get(parsed.id) ?? ResumeFailure.Unknown };
    }
    const presented = session.secrets.matches(parsed.secret);
    if (presented === "") return { ok: false, failure: ResumeFailure.Unknown };
    const now = this.#clock.now();
    if (session.state === "detached" && now >= session.lastHeardAt + this.windowMs) {
      this.windowPassed(session);
      return { ok: false, failure: ResumeFailure.Expired };
    }
    if (!this.#sameClient(session.auth, auth)) {
      return { ok: false, failure: ResumeFailure.Mismatch };
    }
    const replaced = session.owner;
    const gapMs = session.state === "detached" ? now - session.lastHeardAt : 0;
    this.#windows.remove(session);
    this.#waiting.remove(session);
    session.state = "attached";
    session.owner = owner;
    // The presented secret stays valid until the new connection proves alive.
    return {
      ok: true,
      session,
      token: session.secrets.rotate(session.id, presented),
      replaced,
      gapMs,
    };
  }

  /** A fresh token for `session`; every older one stops working. */
  rotate(session: ResumableSession<TData, TAuth, TOwner>): string {
    const s = session as Session<TData, TAuth, TOwner>;
    return s.secrets.rotate(s.id);
  }

  /**
   * `owner`'s connection ended and the session stays resumable: its window
   * starts now. False (nothing done) when `owner` no longer holds it, e.g.
   * the connection a takeover replaced.
   */
  detach(session: ResumableSession<TData, TAuth, TOwner>, owner: TOwner): boolean {
    const s = session as Session<TData, TAuth, TOwner>;
    if (s.state !== "attached" || s.owner !== owner) return false;
    s.state = "detached";
    s.owner = undefined;
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
   * Ends the session now, reported once with its undelivered messages. With
   * `owner`, only while that connection holds it (a replaced connection's
   * deliberate close does not end the session that moved on). False when
   * nothing was done. `overflow` leaves a tombstone so the next resume hears
   * `overflow`; a deliberate end leaves none (`unknown`, as the contract says).
   */
  end(
    session: ResumableSession<TData, TAuth, TOwner>,
    reason: SessionEndCause,
    owner?: TOwner,
  ): boolean {
    const s = session as Session<TData, TAuth, TOwner>;
    if (s.state === "ended") return false;
    if (owner !== undefined && s.owner !== owner) return false;
    this.#finish(s, reason);
    return true;
  }

  /** The sessions waiting for their client (in their window), O(waiting). */
  waiting(): IterableIterator<ResumableSession<TData, TAuth, TOwner>> {
    return this.#waiting[Symbol.iterator]();
  }

  /**
   * Ends every session held now, each reported once with its undelivered
   * messages (the server's shutdown: sessions kept in this process's
   * memory cannot outlive it). Returns how many ended.
   */
  endAll(reason: SessionEndCause): number {
    const held = [...this.#sessions.values()];
    for (const session of held) this.#finish(session, reason);
    return held.length;
  }

  /** @internal The window passed (from the deadline queue, or found by `take`). */
  windowPassed(session: Session<TData, TAuth, TOwner>): void {
    if (session.state === "detached") this.#finish(session, "expired");
  }

  #finish(s: Session<TData, TAuth, TOwner>, reason: SessionEndCause | "expired" | "evicted"): void {
    const now = this.#clock.now();
    this.#windows.remove(s);
    this.#waiting.remove(s);
    this.#sessions.delete(s.id);
    s.state = "ended";
    s.owner = undefined;
    s.secrets.forget();
    const undelivered = s.unacked.drain();
    if (reason === "expired" || reason === "overflow") {
      this.#bury(s.id, reason === "expired" ? ResumeFailure.Expired : ResumeFailure.Overflow, now);
    }
    const onEnd = this.#onEnd;
    if (onEnd === undefined) return;
    try {
      onEnd({ sessionId: s.sessionId, reason, auth: s.auth, undelivered, at: now });
    } catch (error) {
      // Never let a listener break the queue's loop or the store's state;
      // never swallow it either (the shared policy's last resort).
      rethrowLater(error);
    }
  }

  /** A waiting session gives way: ended and reported `evicted`, no tombstone (a resume hears `unknown`). */
  #evict(session: Session<TData, TAuth, TOwner>): void {
    this.#evicted++;
    this.#finish(session, "evicted");
  }

  #clientKey(auth: TAuth): string | undefined {
    const clientOf = this.#clientOf;
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
    if (this.#tombstones.size >= this.maxSessions) {
      // At the bound the oldest tombstone goes early: its id answers unknown.
      this.#tombstones.delete(this.#tombIds.shift()!);
      this.#tombUntil.shift();
    }
    this.#tombstones.set(id, failure);
    this.#tombIds.push(id);
    this.#tombUntil.push(now + this.windowMs);
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

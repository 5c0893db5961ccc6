import type { Clock, ResumeFailure } from "@heartline/protocol";
import type { ResolvedResumeOptions } from "./resolved-options.js";
import type { SessionEndReason } from "./resume-api.js";
import type { UnackedBuffer, UnackedMessage } from "./unacked-buffer.js";

// The session-store seam (issue 25): what the server core asks of the place
// where resumable sessions are kept. The in-process store
// (`memory-session-store.ts`) is one implementation; `@heartline/redis`'s
// `createRedisSessionStore` is another. One contract suite runs against both.
//
// The split: a session's lifecycle (create, take, detach, end, adopt) goes
// through the store and may wait on I/O; the per-frame state of a session
// this process hosts (its unacked buffer, its received seq) stays local and
// synchronous. Per frame the connection only *tells* the session what
// happened (`received`, `sent`, `acked`); a shared store records those in
// batches (one pipeline per event-loop turn) and says when they are recorded
// (`recordedIn`, `recordedOut`, `onRecorded`). The connection acknowledges
// only what is recorded and writes a message only once it is recorded
// (PROTOCOL.md "Several server processes"); the in-process store records
// everything at once, so nothing waits.

/** Who holds a session: serialisable, so another process can fence or replace it. */
export interface SessionOwner {
  /** The server process (`nodeId` option; unique in the cluster). */
  readonly nodeId: string;
  /** The connection within that process (the core's own counter, never reused in a process). */
  readonly connectionId: string;
}

/** A value now, or later: the in-process store answers at once, a shared one asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** Where a session stands in the store, as this process sees it. */
export type StoredSessionState = "attached" | "detached" | "ended";

/**
 * A resumable session hosted by this process (attached to one of its
 * connections, or waiting for its client here). The fields the connection
 * touches per frame are plain and synchronous.
 */
export interface StoredSession<TData = unknown, TAuth = unknown> {
  /** The application's session id (the `welcome`'s `sessionId`), the same on every connection. */
  readonly sessionId: string;
  /** What `authenticate` returned for the connection that created it. */
  readonly auth: TAuth;
  /** Server → client messages not acknowledged yet, numbered; local to this process. */
  readonly unacked: UnackedBuffer<TData>;
  /** The highest client message seq received here (0: none). The connection advances it. */
  receivedSeq: number;
  /** The connection holding it, or undefined while it waits or once it ended. */
  readonly owner: SessionOwner | undefined;
  readonly state: StoredSessionState;
  /**
   * The connection that was sent the current token proved alive (its first
   * data frame): the previous token stops working. Once per resumed connection.
   */
  tokenProven(): void;

  // ---- the journal: told per frame, recorded in batches ----

  /** Client message `seq` was received (`receivedSeq` already advanced to it). */
  received(seq: number): void;
  /** Message `seq` was pushed onto `unacked` (by a send, a broadcast, or while waiting). */
  sent(seq: number): void;
  /** The client acknowledged every message up to `seq` (`unacked` already trimmed). */
  acked(seq: number): void;
  /** The highest received seq the store has recorded: an `ack` may say no more than this. */
  readonly recordedIn: number;
  /** The highest outbound seq the store has recorded: frames up to it may be written. */
  readonly recordedOut: number;
  /**
   * Set by the connection holding the session: called (synchronously, from
   * the store's flush) when `recordedIn` or `recordedOut` advanced. Never
   * called by a store that records at once (there nothing waits).
   */
  onRecorded: (() => void) | undefined;
}

/** How a session was opened for a connection at admission (`SessionStore.create`/`take`). */
export type OpenResult<TData, TAuth> =
  | {
      readonly kind: "created";
      readonly session: StoredSession<TData, TAuth>;
      /** The token for `welcome.resume`. */
      readonly token: string;
      /** Set when the client offered a token that could not be resumed: `welcome.resumeFailed`. */
      readonly failure?: ResumeFailure | undefined;
    }
  | {
      readonly kind: "resumed";
      readonly session: StoredSession<TData, TAuth>;
      /** The token for this connection's `welcome.resume` (the one presented is spent once proven). */
      readonly token: string;
      /**
       * The connection that held the session until now, in this process or
       * another (a takeover): it is closed 4409, reported `replaced`, by the
       * process that holds it. The store tells that process (`onReplaced`).
       */
      readonly replaced: SessionOwner | undefined;
      /** How long the session had waited (0 for a takeover). */
      readonly gapMs: number;
    }
  /** A new session could not be made (table full of live sessions, or the store unreachable): plain v1. */
  | { readonly kind: "plain"; readonly failure?: ResumeFailure | undefined }
  /** A resume met an unreachable store: 503 with Retry-After; the token is not spent. */
  | { readonly kind: "unavailable" };

/** What a store reports to the core that runs it (given once, in `start`). */
export interface SessionStoreHooks<TData, TAuth> {
  /** The end of a session, once cluster-wide, with every message still unacknowledged. */
  onEnd(end: StoredSessionEnd<TData, TAuth>): void;
  /**
   * A connection of this process lost its session to a resume elsewhere
   * (or here): close it 4409, reported `replaced`. Its session is no longer
   * this process's: messages it could not record are in `unrecorded`
   * (reported to the application as undeliverable).
   */
  onReplaced(owner: SessionOwner, unrecorded: ReadonlyArray<UnackedMessage<TData>>): void;
  /**
   * A session waiting here was resumed by another process, or this process's
   * write for it was refused (fenced: the session belongs elsewhere now).
   * It is no longer hosted here; nothing is reported as its end.
   */
  onMoved(sessionId: string, unrecorded: ReadonlyArray<UnackedMessage<TData>>): void;
  /**
   * This process adopted a session of a lost process (`from`, its nodeId):
   * it waits here for its client (its window starts now).
   */
  onAdopted(session: StoredSession<TData, TAuth>, from?: string): void;
  /** The store's link changed (`available` false: new sessions are plain v1, resumes get 503). */
  onAvailability?(available: boolean): void;
  /** The injected clock (windows, batching, retries). */
  readonly clock: Clock;
  /** The server's resolved `resume` option: the window and every bound (defaults applied once, there). */
  readonly options: ResolvedResumeOptions;
}

/** One session's end, as a store reports it (the core turns it into `sessionEnd`). */
export interface StoredSessionEnd<TData, TAuth> {
  readonly sessionId: string;
  readonly reason: SessionEndReason;
  readonly auth: TAuth;
  /** Every message still unacknowledged, in seq order. */
  readonly undelivered: ReadonlyArray<UnackedMessage<TData>>;
  /** Clock time of the end. */
  readonly at: number;
}

/** What `end` may be given: the store's own reasons (`expired`, `evicted`) are not. */
export type StoredEndCause = Exclude<SessionEndReason, "expired" | "evicted">;

/** Counts for `stats()` and the metrics; a shared store counts what this process hosts. */
export interface SessionStoreCounts {
  /** Sessions hosted here: attached or waiting. */
  readonly sessions: number;
  /** Of those, waiting for their client. */
  readonly detached: number;
  /** Sessions evicted since start (each also ended and reported, reason `evicted`). */
  readonly evicted: number;
  /** New sessions answered plain v1 (table full, or the store unreachable). */
  readonly refused: number;
  /** Sessions adopted from lost processes since start (0 for the in-process store). */
  readonly adopted: number;
}

/**
 * The seam. Every lifecycle call may answer asynchronously; the core holds
 * the socket (before the 101, at admission) until `open` answers, and calls
 * `release` if the upgrade is abandoned after it.
 */
export interface SessionStore<TData = unknown, TAuth = unknown> {
  /** This process's id in the cluster: the `nodeId` of every owner it makes. */
  readonly nodeId: string;
  /** False while the store is unreachable: new sessions are plain v1, resumes are answered 503. */
  readonly available: boolean;
  /**
   * True when sessions outlive this process (a shared store): at shutdown
   * a connection's end then detaches its session (handed on by `shutdown`)
   * instead of ending it. Absent or false: the in-process store, whose
   * sessions end with the process (`server_closed`).
   */
  readonly durable?: boolean;
  /** Called once by the core before any other call. */
  start(hooks: SessionStoreHooks<TData, TAuth>): void;
  /**
   * Opens a session for a connection being admitted: resumes the one
   * `token` names (checked as PROTOCOL.md says: unknown, expired, overflow,
   * mismatch; a refusal leaves the session untouched), or creates one
   * (`token` undefined, or a failed resume, which reports `failure`).
   * `newSessionId` names a session it creates (the server's
   * `generateSessionId`; called only then, once).
   */
  open(
    token: string | undefined,
    auth: TAuth,
    owner: SessionOwner,
    address: string | undefined,
    newSessionId: () => string,
  ): MaybePromise<OpenResult<TData, TAuth>>;
  /**
   * The upgrade `open` answered for was abandoned before its welcome: a
   * created session is dropped unreported; a resumed one waits again (its
   * window restarts; the token presented still works).
   */
  release(session: StoredSession<TData, TAuth>, owner: SessionOwner): MaybePromise<void>;
  /** `owner`'s connection ended and the session stays resumable: it waits (its window starts). False if `owner` no longer held it. */
  detach(session: StoredSession<TData, TAuth>, owner: SessionOwner): MaybePromise<boolean>;
  /** Ends the session now, reported once (`onEnd`); with `owner`, only while that connection holds it. */
  end(
    session: StoredSession<TData, TAuth>,
    reason: StoredEndCause,
    owner?: SessionOwner,
  ): MaybePromise<boolean>;
  /** The sessions waiting for their client here, O(waiting). */
  waiting(): Iterable<StoredSession<TData, TAuth>>;
  /** The session `sessionId` if this process hosts it. */
  hosted(sessionId: string): StoredSession<TData, TAuth> | undefined;
  /**
   * The server is closing. The in-process store ends every session
   * (`server_closed`: they cannot outlive the process); a shared store
   * records what is pending, detaches every session this process holds and
   * hands them to the surviving processes at once (adopted without waiting
   * for the liveness period). Resolves when done.
   */
  shutdown(): Promise<void>;
  /** The counts for `stats()` (what this process hosts), O(1). */
  counts(): SessionStoreCounts;
}

import type { Clock, DisconnectReason } from "@heartline/protocol";
import { HeartlineError, ServerErrorCode } from "../errors.js";
import type { WelcomeTerms } from "../welcome.js";
import { welcomeFrame } from "../welcome.js";
import { type AckOwing, AckQueue } from "./ack-queue.js";
import type { ResolvedResumeOptions } from "./resolved-options.js";
import type {
  ResumeOffer,
  SessionAdoptedInfo,
  SessionEndInfo,
  SessionMovedInfo,
  SessionStats,
} from "./resume-api.js";
import { type HandleHost, type HandleOwner, SessionHandle } from "./session-handle.js";
import type {
  OpenResult,
  SessionOwner,
  SessionStore,
  StoredEndCause,
  StoredSession,
  StoredSessionEnd,
} from "./store-api.js";
import type { UnackedMessage } from "./unacked-buffer.js";
import { unrefClock } from "./unref-clock.js";
import { sessionSurvives } from "./window-rules.js";

/** What resumption needs from a connection it opens a session on. */
export interface ResumingConnection<TServer = unknown> extends AckOwing, HandleOwner<TServer> {
  sessionId: string;
  /** Who holds its session in the store (set when a session is bound; its id is this process's counter). */
  owner: SessionOwner | undefined;
  /** Binds the session (before the welcome): from now the connection speaks its seq and acks. */
  bind(session: StoredSession<TServer, unknown>): void;
  /** A takeover: the session moved to a newer connection (4409, `replaced`). Once; a no-op after its end. */
  replace(): void;
}

/** How a connection opened: its welcome, and for a resume what the `resume` event reports. */
export interface Opening {
  readonly welcome: string;
  /** Set when the connection resumed a session. */
  readonly resumed: { readonly gapMs: number; readonly ack: number } | undefined;
}

/** What resumption reports to the server that runs it. */
export interface ResumptionEvents<TServer, TAuth> {
  sessionEnd(info: SessionEndInfo<TServer, TAuth>): void;
  sessionMoved(info: SessionMovedInfo<TServer>): void;
  sessionAdopted(info: SessionAdoptedInfo<TAuth>): void;
  /** A store call failed (a rejected promise): reported, never swallowed. */
  error(error: HeartlineError): void;
}

/** What admission's store call opened, riding in `ResumeOffer.opened` to `accept`. */
export interface OpenedSession<TServer = unknown, TAuth = unknown> {
  /** The owner the session was opened for: the connection `accept` makes. */
  readonly owner: SessionOwner;
  readonly result: OpenResult<TServer, TAuth>;
}

/** Admission's answer from the store: the offer to hand `accept`, or 503. */
export type OpenVerdict = ResumeOffer | "unavailable";

function dataOf<T>(messages: ReadonlyArray<UnackedMessage<T>>): T[] {
  const out: T[] = [];
  for (const message of messages) out.push(message.data);
  return out;
}

/**
 * Resume orchestration on the server (PROTOCOL.md "Resumable sessions",
 * "Several server processes"), over the session-store seam (`store-api.ts`)
 * and nothing else of a store:
 *
 * - At admission's last step the store opens the session (`openAt`): the
 *   token checked and the session resumed, or a new one, or plain v1, or
 *   503 when the store is unreachable. A takeover of a connection of this
 *   process is closed then (4409, reported before the new welcome). The
 *   opened session rides in the admission to `accept` (`open`), and goes
 *   back (`release`) if the upgrade is abandoned in between.
 * - At a connection's end the window rule (`window-rules.ts`) keeps the
 *   session for its window (`detach`) or ends it; each end is reported once
 *   as `sessionEnd`.
 * - The store's hooks: a connection replaced from elsewhere, a session
 *   moved to another process (`sessionMoved`), one adopted from a lost
 *   process (`sessionAdopted`: it waits here, with a handle).
 *
 * Owners are `{ nodeId, connectionId }` (the connection id from this
 * process's counter): the connections holding sessions are found by it.
 * Owns the ack queue (the interval half of the ack cadence), so nothing
 * of it exists with resumption off.
 */
export class Resumption<TServer, TAuth, TConn extends ResumingConnection<TServer>> {
  /**
   * The application's handle of each session hosted, by session id: made
   * with the session (or its adoption), the same object across its
   * connections here, dropped at its end or when it moves away.
   */
  readonly #handles = new Map<string, SessionHandle<TServer, TAuth, TConn>>();
  /** The connections of this process holding a session, by connection id. */
  readonly #conns = new Map<string, TConn>();
  readonly #handleHost: HandleHost<TServer, TConn>;
  readonly #store: SessionStore<TServer, TAuth>;
  /** Acks owed to clients, flushed at the latest one interval after receipt, under one timer. */
  readonly #acks: AckQueue<TConn>;
  readonly #terms: WelcomeTerms;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #events: ResumptionEvents<TServer, TAuth>;
  #connectionIds = 0;
  #resumed = 0;
  #ended = 0;

  constructor(
    store: SessionStore<TServer, TAuth>,
    options: ResolvedResumeOptions,
    clock: Clock,
    terms: WelcomeTerms,
    events: ResumptionEvents<TServer, TAuth>,
    server: Omit<HandleHost<TServer, TConn>, "endSession" | "connectionOf">,
  ) {
    this.#store = store;
    this.#events = events;
    this.#handleHost = {
      serverSchema: server.serverSchema,
      counters: server.counters,
      endSession: (session, reason) => this.end(session, reason),
      connectionOf: (owner) => this.#connectionOf(owner),
    };
    // Neither a detached session's window nor an ack still queued for a
    // closed socket may keep a closed server's process alive.
    const quiet = unrefClock(clock);
    this.#clock = quiet;
    this.#terms = terms;
    this.#windowMs = options.windowMs;
    this.#acks = new AckQueue(quiet, terms.intervalMs);
    store.start({
      onEnd: (end) => this.#sessionEnded(end),
      onReplaced: (owner, unrecorded) => this.#replacedFromStore(owner, unrecorded),
      onMoved: (sessionId, unrecorded) => this.#moved(sessionId, unrecorded),
      onAdopted: (session, from) => this.#adopted(session, from),
      clock: quiet,
      options,
    });
  }

  /** A new owner for a connection of this process: the store's node, the next connection id. */
  newOwner(): SessionOwner {
    return { nodeId: this.#store.nodeId, connectionId: (++this.#connectionIds).toString(36) };
  }

  /**
   * Admission's last step: the store opens the session for the upgrade
   * (synchronously with the in-process store, so admission stays
   * synchronous). A takeover of a connection here closes it now (4409).
   */
  openAt(
    token: string | undefined,
    auth: TAuth,
    address: string | undefined,
    newSessionId: () => string,
  ): OpenVerdict | Promise<OpenVerdict> {
    const owner = this.newOwner();
    let result: OpenResult<TServer, TAuth> | Promise<OpenResult<TServer, TAuth>>;
    try {
      result = this.#store.open(token, auth, owner, address, newSessionId);
    } catch (cause) {
      this.#failed("open", cause);
      return "unavailable";
    }
    if (result instanceof Promise) {
      return result.then(
        (opened) => this.#opened(token, owner, opened),
        (cause) => {
          this.#failed("open", cause);
          return "unavailable" as const;
        },
      );
    }
    return this.#opened(token, owner, result);
  }

  #opened(
    token: string | undefined,
    owner: SessionOwner,
    result: OpenResult<TServer, TAuth>,
  ): OpenVerdict {
    if (result.kind === "unavailable") return "unavailable";
    if (result.kind === "resumed") this.#replaceLocal(result.replaced);
    const opened: OpenedSession<TServer, TAuth> = { owner, result };
    return { token, opened };
  }

  /** The upgrade `openAt` answered for was abandoned before `accept`: the session goes back. */
  release(offer: ResumeOffer | undefined): void {
    const opened = offer?.opened as OpenedSession<TServer, TAuth> | undefined;
    if (opened === undefined) return;
    const result = opened.result;
    if (result.kind !== "created" && result.kind !== "resumed") return;
    this.#settle("release", () => this.#store.release(result.session, opened.owner));
  }

  /**
   * `accept`'s half: binds `conn` to the session admission opened (or, for
   * an offer `accept` was handed directly, opens it now: that needs a store
   * that answers at once), and returns the welcome to send.
   */
  open(conn: TConn, offer: ResumeOffer, auth: TAuth, newSessionId: () => string): Opening {
    let opened = offer.opened as OpenedSession<TServer, TAuth> | undefined;
    if (opened === undefined) {
      const verdict = this.openAt(offer.token, auth, conn.remoteAddress, newSessionId);
      if (verdict instanceof Promise) {
        // Nothing to wait on here: served plain v1, and whatever it opens goes back.
        this.#events.error(
          new HeartlineError(
            ServerErrorCode.SessionStoreFailed,
            "accept was given a resume offer admission did not open, and the session store answers asynchronously: served plain v1",
          ),
        );
        void verdict.then((late) => (late === "unavailable" ? undefined : this.release(late)));
      } else if (verdict !== "unavailable")
        opened = verdict.opened as OpenedSession<TServer, TAuth>;
    }
    const result = opened?.result;
    if (
      opened === undefined ||
      result === undefined ||
      result.kind === "plain" ||
      result.kind === "unavailable"
    ) {
      // At maxSessions with no session waiting to evict, or no store to keep it: plain v1 (no `resume` in the welcome tells the client).
      conn.sessionId = newSessionId();
      return { welcome: welcomeFrame(conn.sessionId, this.#terms), resumed: undefined };
    }
    const session = result.session;
    conn.owner = opened.owner;
    this.#conns.set(opened.owner.connectionId, conn);
    conn.bind(session);
    if (result.kind === "resumed") {
      if (!this.#handles.has(session.sessionId)) {
        // Resumed from another process: its handle here starts now.
        this.#handles.set(session.sessionId, new SessionHandle(session, this.#handleHost, conn));
      }
      this.#resumed++;
      // What the store recorded as received: a receipt not recorded yet is
      // not acknowledged (the client sends it again; it is dropped as a duplicate).
      const resumed = { gapMs: result.gapMs, ack: session.recordedIn };
      const welcome = welcomeFrame(conn.sessionId, this.#terms, this.#resume(result.token), {
        ack: resumed.ack,
      });
      return { welcome, resumed };
    }
    this.#handles.set(conn.sessionId, new SessionHandle(session, this.#handleHost, conn));
    const welcome = welcomeFrame(
      conn.sessionId,
      this.#terms,
      this.#resume(result.token),
      result.failure,
    );
    return { welcome, resumed: undefined };
  }

  /**
   * The window rule, applied to `conn`'s end: `kept` when the session stays
   * resumable (its window starts now); `ends` for a deliberate end (call
   * `end` after the `disconnect` report: disconnect, then sessionEnd);
   * `moved` when `conn` no longer held it (a takeover already moved it on).
   * A store that answers later is taken at its word that it keeps it.
   */
  afterEnd(
    session: StoredSession<TServer, TAuth>,
    conn: TConn,
    reason: DisconnectReason,
    code: number | undefined,
  ): "kept" | "ends" | "moved" {
    if (!sessionSurvives(reason, code)) return "ends";
    const owner = conn.owner!;
    let detached: boolean | Promise<boolean>;
    try {
      detached = this.#store.detach(session, owner);
    } catch (cause) {
      this.#failed("detach", cause);
      return "moved";
    }
    if (detached instanceof Promise) {
      detached.catch((cause) => this.#failed("detach", cause));
    } else if (!detached) return "moved";
    this.#handles.get(session.sessionId)?.detached(conn);
    return "kept";
  }

  /** `conn`'s end was reported: it holds no session any more. */
  connectionEnded(conn: TConn): void {
    const owner = conn.owner;
    if (owner !== undefined && this.#conns.get(owner.connectionId) === conn) {
      this.#conns.delete(owner.connectionId);
    }
  }

  /** Ends `session` now (a deliberate end by `owner`'s connection, or its buffer overflowed). */
  end(
    session: StoredSession<TServer, TAuth>,
    reason: StoredEndCause,
    owner?: SessionOwner | undefined,
  ): void {
    this.#settle("end", () => this.#store.end(session, reason, owner));
  }

  /**
   * Shutdown: the store's (the in-process store ends every session,
   * `server_closed`; a shared one hands them to the surviving processes).
   */
  shutdown(): Promise<void> | undefined {
    let done: Promise<void>;
    try {
      done = this.#store.shutdown().catch((cause) => this.#failed("shutdown", cause));
    } catch (cause) {
      this.#failed("shutdown", cause);
      return undefined;
    }
    // The in-process store is done when `shutdown` returns (every session
    // ended and reported): `close()` resolves as soon as the sockets are
    // gone, as it always did. A shared store's hand-over is waited for.
    return this.durable ? done : undefined;
  }

  /** Whether sessions outlive this process (a shared store): then a shutdown does not end them. */
  get durable(): boolean {
    return this.#store.durable === true;
  }

  /** `conn` owes its client an ack: flushed at the latest one interval from now. */
  queueAck(conn: TConn): void {
    this.#acks.add(conn);
  }

  /** The handle of the session `sessionId` while it lasts (live or waiting). */
  handle(sessionId: string): SessionHandle<TServer, TAuth, TConn> | undefined {
    return this.#handles.get(sessionId);
  }

  /** The handles of the sessions waiting for their client (a broadcast reaches them too). */
  *waiting(): IterableIterator<SessionHandle<TServer, TAuth, TConn>> {
    // O(waiting), not O(sessions held): the store keeps the waiting ones apart.
    for (const session of this.#store.waiting()) {
      const handle = this.#handles.get(session.sessionId);
      if (handle !== undefined) yield handle;
    }
  }

  stats(): SessionStats {
    const held = this.#store.counts();
    return {
      live: held.sessions - held.detached,
      detached: held.detached,
      resumed: this.#resumed,
      ended: this.#ended,
      evicted: held.evicted,
      refused: held.refused,
    };
  }

  #resume(token: string): { token: string; windowMs: number } {
    return { token, windowMs: this.#windowMs };
  }

  #connectionOf(owner: SessionOwner | undefined): TConn | undefined {
    if (owner === undefined || owner.nodeId !== this.#store.nodeId) return undefined;
    return this.#conns.get(owner.connectionId);
  }

  /** A resume took the session from `owner`: a connection of this process is closed 4409, once. */
  #replaceLocal(owner: SessionOwner | undefined): void {
    const conn = this.#connectionOf(owner);
    if (conn === undefined) return;
    this.#conns.delete(owner!.connectionId);
    conn.replace();
  }

  /** The store: a connection here lost its session (to a resume here or elsewhere). */
  #replacedFromStore(
    owner: SessionOwner,
    unrecorded: ReadonlyArray<UnackedMessage<TServer>>,
  ): void {
    const conn = this.#connectionOf(owner);
    const sessionId = conn?.sessionId;
    this.#replaceLocal(owner);
    // Resumed in another process: it is not hosted here any more.
    if (sessionId !== undefined && this.#store.hosted(sessionId) === undefined) {
      this.#moved(sessionId, unrecorded);
    }
  }

  /** The session left this process (resumed elsewhere, or fenced): no handle here; not its end. */
  #moved(sessionId: string, unrecorded: ReadonlyArray<UnackedMessage<TServer>>): void {
    const handle = this.#handles.get(sessionId);
    if (handle === undefined) return;
    this.#handles.delete(sessionId);
    // A connection here still carrying it (fenced while attached) is replaced.
    const conn = handle.connection;
    if (conn !== undefined) this.#replaceLocal(conn.owner);
    this.#events.sessionMoved({ sessionId, undelivered: dataOf(unrecorded) });
  }

  /** A lost process's session now waits here for its client: a handle, so sends and broadcasts reach it. */
  #adopted(session: StoredSession<TServer, TAuth>, from: string | undefined): void {
    if (!this.#handles.has(session.sessionId)) {
      this.#handles.set(
        session.sessionId,
        new SessionHandle(session, this.#handleHost, undefined, this.#clock.now()),
      );
    }
    this.#events.sessionAdopted({
      sessionId: session.sessionId,
      auth: session.auth,
      from: from ?? "",
    });
  }

  /** The store's one report of a session's end, as the `sessionEnd` event. */
  #sessionEnded(end: StoredSessionEnd<TServer, TAuth>): void {
    this.#ended++;
    this.#handles.delete(end.sessionId);
    this.#events.sessionEnd({
      sessionId: end.sessionId,
      reason: end.reason,
      undelivered: dataOf(end.undelivered),
      auth: end.auth,
      at: end.at,
    });
  }

  /** Runs a store call whose answer nobody waits for; a failure is reported. */
  #settle(what: string, call: () => unknown): void {
    try {
      const answer = call();
      if (answer instanceof Promise) answer.catch((cause) => this.#failed(what, cause));
    } catch (cause) {
      this.#failed(what, cause);
    }
  }

  #failed(what: string, cause: unknown): void {
    this.#events.error(
      new HeartlineError(ServerErrorCode.SessionStoreFailed, `session store ${what} failed`, {
        cause,
      }),
    );
  }
}

/** Session counts with resumption off. */
export const NO_SESSIONS: SessionStats = Object.freeze({
  live: 0,
  detached: 0,
  resumed: 0,
  ended: 0,
  evicted: 0,
  refused: 0,
});

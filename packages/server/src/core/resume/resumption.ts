import { type Clock, DisconnectReason } from "@heartline/protocol";
import type { WelcomeTerms } from "../welcome.js";
import { welcomeFrame } from "../welcome.js";
import { type AckOwing, AckQueue } from "./ack-queue.js";
import type { ResolvedResumeOptions } from "./options.js";
import type { ResumeOffer, SessionEndInfo, SessionStats } from "./resume-api.js";
import { type HandleHost, type HandleOwner, SessionHandle } from "./session-handle.js";
import { type ResumableSession, type SessionEnd, SessionStore } from "./session-store.js";
import { unrefClock } from "./unref-clock.js";
import { sessionSurvives } from "./window-rules.js";

/** What resumption needs from a connection it opens a session on. */
export interface ResumingConnection<TSession, TServer = unknown>
  extends AckOwing,
    HandleOwner<TServer> {
  sessionId: string;
  /** Where the client connected from: its waiting sessions are bounded per address. */
  readonly remoteAddress: string | undefined;
  /** Binds the session (before the welcome): from now the connection speaks its seq and acks. */
  bind(session: TSession): void;
  /** A takeover: the session moved to a newer connection (4409, `replaced`). */
  replace(): void;
}

/** How a connection opened: its welcome, and for a resume what the `resume` event reports. */
export interface Opening {
  readonly welcome: string;
  /** Set when the connection resumed a session. */
  readonly resumed: { readonly gapMs: number; readonly ack: number } | undefined;
}

/**
 * Resume orchestration on the server (PROTOCOL.md "Resumable sessions"):
 * at accept, a token offered is checked (`SessionStore.take`, whose check
 * is in `token-check.ts`) and the session resumed, or a new one created;
 * at a connection's end, the window rule (`window-rules.ts`) keeps the
 * session for its window or ends it; each end is reported once as
 * `sessionEnd`. Owns the session store and the ack queue (the interval
 * half of the ack cadence), so nothing of it exists with resumption off.
 */
export class Resumption<
  TServer,
  TAuth,
  TConn extends ResumingConnection<TSession, TServer>,
  TSession = ResumableSession<TServer, TAuth, TConn>,
> {
  /**
   * The application's handle of each session held, by session id: made
   * with the session, the same object across its connections, dropped at
   * its end. `session(id)` and a broadcast to waiting sessions read it.
   */
  readonly #handles = new Map<string, SessionHandle<TServer, TAuth, TConn>>();
  readonly #handleHost: HandleHost<TServer, ResumableSession<TServer, TAuth, TConn>>;
  readonly #store: SessionStore<TServer, TAuth, TConn>;
  /** Acks owed to clients, flushed at the latest one interval after receipt, under one timer. */
  readonly #acks: AckQueue<TConn>;
  readonly #terms: WelcomeTerms;
  readonly #onEnd: (info: SessionEndInfo<TServer, TAuth>) => void;
  #resumed = 0;
  #ended = 0;

  constructor(
    options: ResolvedResumeOptions,
    clock: Clock,
    terms: WelcomeTerms,
    onEnd: (info: SessionEndInfo<TServer, TAuth>) => void,
    server: Omit<HandleHost<TServer, unknown>, "endSession">,
  ) {
    this.#handleHost = {
      serverSchema: server.serverSchema,
      counters: server.counters,
      endSession: (session, reason) => this.#store.end(session, reason),
    };
    // Neither a detached session's window nor an ack still queued for a
    // closed socket may keep a closed server's process alive.
    const quiet = unrefClock(clock);
    this.#terms = terms;
    this.#onEnd = onEnd;
    this.#store = new SessionStore<TServer, TAuth, TConn>(options, {
      onEnd: (end) => this.#sessionEnded(end),
      clock: quiet,
    });
    this.#acks = new AckQueue(quiet, terms.intervalMs);
  }

  /**
   * Opens `conn`'s session: resumes the one `offer.token` names (a takeover
   * closes its previous connection, reported before the new welcome), else
   * a new one (evicting a waiting session at `maxSessions`), or plain v1
   * when the table holds only live sessions. Returns the welcome to send.
   */
  open(conn: TConn, offer: ResumeOffer, auth: TAuth, newSessionId: () => string): Opening {
    const store = this.#store;
    const taken = offer.token === undefined ? undefined : store.take(offer.token, auth, conn);
    if (taken?.ok === true) {
      conn.bind(taken.session as TSession);
      // Before the new welcome: the old connection's end is reported at this moment, once.
      taken.replaced?.replace();
      this.#resumed++;
      const resumed = { gapMs: taken.gapMs, ack: taken.session.receivedSeq };
      const welcome = welcomeFrame(conn.sessionId, this.#terms, this.#resume(taken.token), {
        ack: resumed.ack,
      });
      return { welcome, resumed };
    }
    conn.sessionId = newSessionId();
    const created = store.create(conn.sessionId, auth, conn, conn.remoteAddress);
    // At maxSessions with no session waiting to evict: plain v1 (no `resume` in the welcome tells the client).
    if (created === undefined) {
      return { welcome: welcomeFrame(conn.sessionId, this.#terms), resumed: undefined };
    }
    conn.bind(created.session as TSession);
    this.#handles.set(conn.sessionId, new SessionHandle(created.session, this.#handleHost, conn));
    const welcome = welcomeFrame(
      conn.sessionId,
      this.#terms,
      this.#resume(created.token),
      taken?.failure,
    );
    return { welcome, resumed: undefined };
  }

  /**
   * The window rule, applied to `conn`'s end: `kept` when the session stays
   * resumable (its window starts now); `ends` for a deliberate end (call
   * `end` after the `disconnect` report: disconnect, then sessionEnd);
   * `moved` when `conn` no longer held it (a takeover already moved it on).
   */
  afterEnd(
    session: TSession,
    conn: TConn,
    reason: DisconnectReason,
    code: number | undefined,
  ): "kept" | "ends" | "moved" {
    if (!sessionSurvives(reason, code)) return "ends";
    const held = session as ResumableSession<TServer, TAuth, TConn>;
    if (!this.#store.detach(held, conn)) return "moved";
    this.#handles.get(held.sessionId)?.detached(conn);
    return "kept";
  }

  /** Ends `session` now (a deliberate end by `owner`'s connection, or its buffer overflowed). */
  end(session: TSession, reason: DisconnectReason | "overflow", owner?: TConn): void {
    this.#store.end(session as ResumableSession<TServer, TAuth, TConn>, reason, owner);
  }

  /** Shutdown: every session held ends now (`server_closed`), each reported with what it held. */
  endAll(): void {
    this.#store.endAll(DisconnectReason.ServerClosed);
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
    const held = this.#store.stats();
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
    return { token, windowMs: this.#store.windowMs };
  }

  /** The store's one report of a session's end, as the `sessionEnd` event. */
  #sessionEnded(end: SessionEnd<TServer, TAuth>): void {
    this.#ended++;
    this.#handles.delete(end.sessionId);
    const undelivered: TServer[] = [];
    for (const message of end.undelivered) undelivered.push(message.data);
    this.#onEnd({
      sessionId: end.sessionId,
      reason: end.reason,
      undelivered,
      auth: end.auth,
      at: end.at,
    });
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

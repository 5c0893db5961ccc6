import {
  CloseCode,
  DisconnectReason,
  type ResumeFailure,
  shouldReconnect,
  subprotocolOffers,
  systemClock,
  validateData,
} from "@heartline/protocol";
import DefaultWebSocket from "isomorphic-ws";
import { fullJitterBackoff } from "./backoff.js";
import { createEmitter } from "./emitter.js";
import { ClientErrorCode, HeartlineClientError } from "./errors.js";
import { createFigures } from "./figures.js";
import { type Link, type LinkEnd, type LinkHost, openLink } from "./link.js";
import { type ClientOptions, clientDefaults } from "./options.js";
import { type PageEvent, watchPage } from "./page-life.js";
import { createReconnectTimer } from "./reconnect-timer.js";
import { createSession } from "./session.js";
import { createSnapshot } from "./snapshot.js";
import type {
  ClientEvents,
  ClientSnapshot,
  ClientState,
  DisconnectEvent,
  HeartlineClient,
  UndeliveredEvent,
} from "./types.js";
import { validateClientOptions } from "./validate-options.js";
import type { WebSocketConstructor, WebSocketLike } from "./websocket.js";

const noop = (): void => {};

/**
 * Creates a Heartline client. Nothing happens until `connect()`; listeners
 * can be added before (`on` option or `client.on`).
 *
 * This is the public facade and the state machine; the socket of each
 * attempt is a `Link` (link.ts), and what outlives attempts is the `Session`
 * (session.ts) with its reconnect timer (reconnect-timer.ts).
 */
export function createClient<TClientData = unknown, TServerData = unknown>(
  options: ClientOptions<TClientData, TServerData>,
): HeartlineClient<TClientData, TServerData> {
  validateClientOptions(options);
  const clock = options.clock ?? systemClock;
  const WebSocketImpl = options.WebSocket ?? (DefaultWebSocket as unknown as WebSocketConstructor);
  const connectTimeoutMs = options.connectTimeoutMs ?? clientDefaults.connectTimeoutMs;
  const retry = options.reconnect === false ? undefined : (options.reconnect ?? {});
  const defaults = clientDefaults.reconnect;

  const resume = options.resume ?? clientDefaults.resume;
  // `snapshot`: the internal event behind `subscribe()`, so its listeners
  // share the emitter's policy for a listener that throws.
  const events = createEmitter<ClientEvents<TServerData, TClientData> & { snapshot: undefined }>();
  /** Emits, then tells subscribers if the snapshot changed with it. */
  const emit: typeof events.emit = (event, payload) => {
    events.emit(event, payload);
    snapshot.changed();
  };
  for (const [event, listener] of Object.entries(options.on ?? {})) {
    if (listener) events.on(event as keyof ClientEvents, listener as () => void);
  }

  const outbox = options.outbox;
  const maxQueued =
    outbox?.maxUnackedMessages ?? outbox?.maxMessages ?? clientDefaults.outbox.maxUnackedMessages;
  const figures = createFigures();
  const session = createSession(
    maxQueued,
    createReconnectTimer(
      clock,
      options.random ?? Math.random,
      {
        enabled: retry !== undefined,
        maxAttempts: retry?.maxAttempts ?? defaults.maxAttempts,
        stableAfterMs: retry?.stableAfterMs ?? defaults.stableAfterMs,
        backoff:
          retry?.backoff ??
          fullJitterBackoff(retry?.baseMs ?? defaults.baseMs, retry?.capMs ?? defaults.capMs),
      },
      startAttempt,
    ),
  );
  const { reconnect } = session;
  let state: ClientState = "closed";
  let link: Link | undefined;
  let stopWatchingPage = noop;
  /** When the last connection's end was reported: a resume's gap counts from there. */
  let endedAt = 0;
  /** The last end, for the snapshot (cleared by a `welcome`). */
  let lastEnd: DisconnectEvent | undefined;
  /** True while a `disconnect` is being reported: a `close()` from its listener only stops retrying. */
  let reporting = false;
  let retryAt: number | undefined;
  let resumedNow = false;
  let resumeFailed: ResumeFailure | undefined;
  /** Fresh credentials were asked for after a 401/4401: another refusal is final. */
  let refreshed = false;
  /** Counts attempts and stops: an attempt whose turn has passed drops its late (async) result. */
  let turn = 0;
  /** Reads `navigator.onLine` of the page found at `connect()` (none: always online). */
  let offline = (): boolean => false;
  /** An attempt came due while offline: it waits for `online`. */
  let waitingOnline = false;
  const snapshot = createSnapshot(
    (): ClientSnapshot => ({
      state,
      reason: lastEnd?.reason,
      code: lastEnd?.code,
      willReconnect: lastEnd?.willReconnect ?? false,
      retryAt,
      attempt: reconnect.attempt,
      sessionId: session.sessionId,
      resumed: resumedNow,
      resumeFailed,
      rtt: figures.rtt.smoothedMs === undefined ? undefined : Math.round(figures.rtt.smoothedMs),
      queued: session.queued,
      unacked: session.unacked,
    }),
    () => events.emit("snapshot", undefined),
  );

  /** Reports messages that will never be delivered (none: nothing to report). */
  function reportUndelivered(event: UndeliveredEvent<TClientData>): void {
    if (event.messages.length > 0) emit("undelivered", event);
  }

  /** Emits an `error` event; changes nothing else. */
  const reportError = (
    code: string,
    message: string,
    extra?: { data?: unknown; cause?: unknown },
  ) => emit("error", new HeartlineClientError(code, message, extra));

  function setState(next: ClientState): void {
    const previous = state;
    state = next;
    if (previous !== next) emit("state", { state: next, previous });
  }

  const host: LinkHost = {
    clock,
    figures,
    session,
    reportError,
    changed: () => snapshot.changed(),
    welcomed(welcome) {
      const { sessionId, heartbeat, rate, resume: offered, resumed } = welcome;
      // Resume terms count only when we asked for them.
      const terms = resume ? offered : undefined;
      // A resume is ours only if we offered this session's token; anything
      // else starts a session, and what the old one left unacked is lost.
      const isResume =
        resumed !== undefined && session.token !== undefined && sessionId === session.sessionId;
      const badAck = isResume && !session.acked(resumed.ack);
      const lost = isResume ? [] : (session.restart(terms !== undefined) as TClientData[]);
      session.sessionId = sessionId;
      session.terms = heartbeat;
      session.token = terms?.token;
      lastEnd = undefined;
      refreshed = false;
      resumedNow = isResume;
      resumeFailed = isResume ? undefined : welcome.resumeFailed;
      reconnect.opened();
      // The replay, then the outbox, go out before any listener can send a newer one.
      const previous = state;
      state = "open";
      const replay = isResume ? session.replay() : [];
      link!.flushAfterWelcome(replay);
      emit("state", { state: "open", previous });
      if (badAck) {
        reportError(
          ClientErrorCode.InvalidMessage,
          `resumed.ack ${resumed.ack} above the last seq sent`,
        );
      }
      // Before `open`: the app learns what the old session lost before it sees the new one.
      const event: UndeliveredEvent<TClientData> = { reason: "resume_failed", messages: lost };
      if (resumeFailed) event.resumeFailed = resumeFailed;
      reportUndelivered(event);
      // Any listener so far may have closed the client.
      if (state !== "open") return;
      const opened: ClientEvents["open"] = { sessionId, heartbeat, resumed: isResume };
      if (rate) opened.rate = rate;
      if (resumeFailed) opened.resumeFailed = resumeFailed;
      emit("open", opened);
      if (isResume && state === "open") {
        emit("resumed", {
          sessionId,
          gapMs: clock.now() - endedAt,
          replayed: replay.length,
        });
      }
    },
    message(data) {
      const result = validateData(options.protocol?.server, data);
      if (result.ok) emit("message", result.value as TServerData);
      else reportError(ClientErrorCode.InvalidInbound, result.message, { data });
    },
    pong(seq, rttMs) {
      emit("pong", { seq, rttMs });
    },
    ended(end) {
      const { reason, code, detectedAfterMs, status } = end;
      link = undefined;
      // A resume's gap is the one the user lived through: from the last frame
      // heard on the last open connection, not from a late verdict after a
      // frozen tab (the server's gapMs counts from its own verdict instead).
      if (state === "open") endedAt = figures.lastHeardAt ?? clock.now();
      reconnect.closed();
      // 4429 is a deliberate end on the server (PROTOCOL.md, "The window"):
      // the session is gone, so no resume, and what it never acknowledged
      // will not be delivered (reported after the disconnect). Queued
      // messages were never sent: they wait for the next session.
      const rateLimited = code === CloseCode.RateLimited;
      const lost = rateLimited ? (session.restart(false) as TClientData[]) : [];
      if (rateLimited) session.token = undefined;
      const delay = reconnect.delayAfter(worthRetry(end), end.goodbye, end.retryAfterMs);
      const delayMs = delay === undefined ? undefined : Math.round(delay);
      const willReconnect = delayMs !== undefined;
      const willResume = willReconnect && session.token !== undefined;
      const event: DisconnectEvent = { reason, willReconnect, willResume };
      // Only the fields that apply: an absent one is not there at all.
      if (code !== undefined) event.code = code;
      if (status !== undefined) event.status = status;
      if (detectedAfterMs !== undefined) event.detectedAfterMs = detectedAfterMs;
      lastEnd = event;
      const disconnected = (): void => {
        reporting = true;
        try {
          emit("disconnect", event);
        } finally {
          reporting = false;
        }
        reportUndelivered({ reason: DisconnectReason.RateLimited, messages: lost });
      };
      if (delayMs === undefined) {
        disconnected();
        if (state !== "closed") stopForGood();
        return;
      }
      event.delayMs = delayMs;
      disconnected();
      // A disconnect or state listener may close() the client: then no retry.
      if (state === "closed") return;
      reconnect.schedule(delayMs);
      retryAt = clock.now() + delayMs;
      setState("reconnecting");
      if (reconnect.pending) emit("reconnecting", { attempt: reconnect.attempt, delayMs });
    },
  };

  /**
   * Whether an end is worth another attempt (the streak's `maxAttempts`
   * aside). A refusal a retry cannot fix is final: an HTTP 4xx other than
   * 408/429 (a 401 too, below), as are the close codes `closeCodeInfo` marks.
   * A 401/4401 is retried once, and only when `credentials` is a function
   * that can give fresh ones.
   */
  function worthRetry(end: LinkEnd): boolean {
    if (end.final || end.reason === DisconnectReason.ClientClosed) return false;
    if (retry?.shouldRetry) return retry.shouldRetry(end);
    if (end.reason === DisconnectReason.Unauthorized) {
      const again = !refreshed && typeof options.credentials === "function";
      refreshed = true;
      return again;
    }
    const { status } = end;
    if (status !== undefined) return status >= 500 || status === 408 || status === 429;
    return shouldReconnect(end.code ?? CloseCode.Abnormal);
  }

  /** An attempt that never reached the network: reported, then retried or not as `ended` decides. */
  function openFailed(message: string, cause: unknown, final: boolean): void {
    reportError(ClientErrorCode.OpenFailed, message, { cause });
    // An `error` listener may have closed the client.
    if (state !== "closed") {
      host.ended({ reason: "open_failed", code: undefined, goodbye: undefined, final });
    }
  }

  /**
   * One connection attempt: the URL and credentials of this attempt (a
   * function's result, awaited), then the socket. While the page is offline
   * it waits for `online` instead (no timer).
   */
  function startAttempt(): void {
    retryAt = undefined;
    const mine = ++turn;
    waitingOnline = offline();
    snapshot.changed();
    if (waitingOnline) return;
    const { url, credentials } = options;
    const get = (value: unknown): unknown => (typeof value === "function" ? value() : value);
    // The socket opens a few microtasks from now, never in this tick: a
    // `close()` in the same tick (React StrictMode's mount, unmount, mount)
    // cancels the attempt before `url`/`credentials` are even asked, and no
    // socket opens. A function's throw is a rejection like any other.
    Promise.resolve()
      .then<false | unknown[]>(() => mine === turn && Promise.all([get(url), get(credentials)]))
      .then(
        (got) => {
          if (got && mine === turn) openSocket(got[0] as string, got[1] as string | undefined);
        },
        (cause) => {
          if (mine === turn)
            openFailed(`url or credentials failed: ${String(cause)}`, cause, false);
        },
      );
  }

  /** Opens the socket of one connection attempt. */
  function openSocket(url: string, credentials: string | undefined): void {
    let socket: WebSocketLike;
    try {
      // `subprotocolOffers` checks the credentials' characters first:
      // `new WebSocket` would throw a SyntaxError that does not say why.
      socket = new WebSocketImpl(url, subprotocolOffers(resume, session.token, credentials));
    } catch (cause) {
      // Bad credentials or a bad URL: the same would fail again, so this is final.
      openFailed(`cannot open WebSocket: ${String(cause)}`, cause, true);
      return;
    }
    link = openLink(socket, host, connectTimeoutMs);
  }

  /**
   * The client is `closed` for good: drop page listeners, report what never
   * left and what was never acknowledged. The session ends with it: a later
   * `connect()` starts a new one.
   */
  function stopForGood(): void {
    reconnect.cancel();
    turn++;
    waitingOnline = false;
    retryAt = undefined;
    stopWatchingPage();
    stopWatchingPage = noop;
    setState("closed");
    session.token = undefined;
    const queued = session.takeQueued().map((item) => item.data as TClientData);
    // Deprecated: one `error` per queued message; `undelivered` below has them all.
    for (const data of queued) {
      reportError(ClientErrorCode.OutboxDiscarded, "closed before the message could be sent", {
        data,
      });
    }
    // Oldest first: those sent and not acknowledged, then those never sent.
    const messages = session.restart(false) as TClientData[];
    reportUndelivered({ reason: "closed", messages: messages.concat(queued) });
  }

  /**
   * `send` refuses `data`: reported on `undelivered` with why, and on
   * `error` with the data (the older path, kept as a deprecated alias).
   */
  function refuse(
    reason: UndeliveredEvent["reason"],
    code: string,
    message: string,
    data: TClientData,
    cause?: unknown,
  ): false {
    const error = new HeartlineClientError(
      code,
      message,
      cause === undefined ? { data } : { data, cause },
    );
    emit("error", error);
    reportUndelivered({ reason, messages: [data], error });
    return false;
  }

  /** `send` before the snapshot update. */
  function send(data: TClientData): boolean {
    if (state === "closed") {
      return refuse("not_connected", ClientErrorCode.NotConnected, "the client is closed", data);
    }
    const checked =
      data === undefined
        ? ({ ok: false, message: "data is required" } as const)
        : validateData(options.protocol?.client, data);
    let json: string | undefined;
    try {
      if (checked.ok) json = JSON.stringify(checked.value);
    } catch (cause) {
      return refuse(
        "invalid",
        ClientErrorCode.InvalidOutbound,
        `data is not JSON: ${String(cause)}`,
        data,
        cause,
      );
    }
    if (json === undefined) {
      return refuse(
        "invalid",
        ClientErrorCode.InvalidOutbound,
        checked.ok ? "data is not JSON" : checked.message,
        data,
      );
    }
    const item = { data, json };
    const overflow = () =>
      refuse(
        "overflow",
        ClientErrorCode.OutboxOverflow,
        `outbox full (${maxQueued} messages)`,
        data,
      );
    if (link?.ready()) return link.send(item) || overflow();
    // The link may just have found the connection dead, with no reconnect.
    if ((state as ClientState) === "closed") {
      return refuse("not_connected", ClientErrorCode.NotConnected, "the client is closed", data);
    }
    return session.hold(item) || overflow();
  }

  function onPageEvent(type: PageEvent): void {
    // The network is back: try now instead of waiting out the backoff (or for the network).
    if (type === "online" && waitingOnline) startAttempt();
    else if (type === "online" && reconnect.pending) reconnect.fireNow();
    else link?.checkNow();
  }

  return {
    get state() {
      return state;
    },
    getSnapshot: snapshot.get,
    subscribe: (listener) => events.on("snapshot", listener),
    get sessionId() {
      return session.sessionId;
    },
    get rtt() {
      return { ...figures.rtt };
    },
    get stats() {
      return {
        pingsSent: figures.pingsSent,
        pongsReceived: figures.pongsReceived,
        lastHeardAt: figures.lastHeardAt,
        lastPingAt: figures.lastPingAt,
        missedBeats: figures.missedBeats,
        reconnectAttempt: reconnect.attempt,
        reconnectAttemptsTotal: reconnect.total,
        queued: session.queued,
        unacked: session.unacked,
      };
    },
    heartbeat: {
      get terms() {
        return session.terms;
      },
      get paused() {
        return session.paused;
      },
      pause() {
        session.paused = true;
        link?.pauseHeartbeat();
      },
      resume() {
        if (!session.paused) return;
        session.paused = false;
        link?.resumeHeartbeat();
      },
    },
    connect() {
      if (state !== "closed") return;
      reconnect.reset();
      refreshed = false;
      const page = watchPage(onPageEvent);
      stopWatchingPage = page.stop;
      offline = page.offline;
      setState("connecting");
      startAttempt();
    },
    send(data) {
      const sent = send(data);
      snapshot.changed();
      return sent;
    },
    close(code = CloseCode.Normal, reason) {
      if (state === "closed") return;
      // From a `disconnect` listener: that end is reported already (one
      // report per connection); the close only stops any retry.
      if (reporting) return stopForGood();
      if (link) link.close(code, reason);
      // Waiting (the backoff, the network, credentials): reported as a close all the same.
      else host.ended({ reason: DisconnectReason.ClientClosed, code, goodbye: undefined });
    },
    on: events.on,
  };
}

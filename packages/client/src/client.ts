import {
  CloseCode,
  DecodeErrorCode,
  DisconnectReason,
  disconnectReasonFor,
  encodeClientMessage,
  type HeartbeatTerms,
  MAX_SEQ,
  type ReconnectWindow,
  SilenceTimer,
  SUBPROTOCOL,
  shouldReconnect,
  systemClock,
  type TimerHandle,
  validateData,
} from "@heartline/protocol";
import DefaultWebSocket from "isomorphic-ws";
import { fullJitterBackoff, goodbyeDelay } from "./backoff.js";
import { decodeServerFrame } from "./decode-server-frame.js";
import { createEmitter } from "./emitter.js";
import { ClientErrorCode, HeartlineClientError } from "./errors.js";
import { type ClientOptions, clientDefaults } from "./options.js";
import { type PageEvent, watchPage } from "./page-life.js";
import type { ClientEvents, ClientState, HeartlineClient, RoundTripTime } from "./types.js";
import { OPEN, type WebSocketConstructor, type WebSocketLike } from "./websocket.js";

/** The weight of a new RTT sample in the smoothed value: TCP's SRTT gain (RFC 6298). */
const RTT_GAIN = 1 / 8;
/** Unanswered pings remembered for RTT; a server that never pongs must not grow this. */
const MAX_PENDING_PINGS = 32;

const noop = (): void => {};

/**
 * Creates a Heartline client. Nothing happens until `connect()`; listeners
 * can be added before (`on` option or `client.on`).
 */
export function createClient<TClientData = unknown, TServerData = unknown>(
  options: ClientOptions<TClientData, TServerData>,
): HeartlineClient<TClientData, TServerData> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const WebSocketImpl = options.WebSocket ?? (DefaultWebSocket as unknown as WebSocketConstructor);
  const connectTimeoutMs = options.connectTimeoutMs ?? clientDefaults.connectTimeoutMs;
  const maxQueued = options.outbox?.maxMessages ?? clientDefaults.outbox.maxMessages;
  const retry = options.reconnect === false ? undefined : (options.reconnect ?? {});
  const defaults = clientDefaults.reconnect;
  const maxAttempts = retry === undefined ? 0 : (retry.maxAttempts ?? defaults.maxAttempts);
  const stableAfterMs = retry?.stableAfterMs ?? defaults.stableAfterMs;
  const backoff =
    retry?.backoff ??
    fullJitterBackoff(retry?.baseMs ?? defaults.baseMs, retry?.capMs ?? defaults.capMs);

  const events = createEmitter<ClientEvents<TServerData>>();
  for (const [event, listener] of Object.entries(options.on ?? {})) {
    if (listener) events.on(event as keyof ClientEvents, listener as () => void);
  }

  let state: ClientState = "closed";
  let socket: WebSocketLike | undefined;
  let silence: SilenceTimer | undefined;
  let terms: HeartbeatTerms | undefined;
  let sessionId: string | undefined;
  let goodbye: ReconnectWindow | undefined;
  let connectTimer: TimerHandle | undefined;
  let pingTimer: TimerHandle | undefined;
  let stableTimer: TimerHandle | undefined;
  let retryTimer: TimerHandle | undefined;
  let stopWatchingPage = noop;
  let attempt = 0;
  let seq = 0;
  let paused = false;
  const pending = new Map<number, number>();
  const outbox: { data: unknown; text: string }[] = [];
  const rtt: RoundTripTime = { latestMs: undefined, smoothedMs: undefined };
  const stats = {
    pingsSent: 0,
    pongsReceived: 0,
    lastHeardAt: undefined as number | undefined,
    lastPingAt: undefined as number | undefined,
  };

  const fail = (code: string, message: string, extra?: { data?: unknown; cause?: unknown }) =>
    events.emit("error", new HeartlineClientError(code, message, extra));

  function setState(next: ClientState): void {
    const previous = state;
    state = next;
    if (previous !== next) events.emit("state", { state: next, previous });
  }

  function clear(handle: TimerHandle | undefined): undefined {
    if (handle !== undefined) clock.clearTimeout(handle);
    return undefined;
  }

  function openSocket(): void {
    let s: WebSocketLike;
    try {
      s = new WebSocketImpl(options.url, [SUBPROTOCOL]);
    } catch (cause) {
      // A bad URL: the same URL would fail again, so this is final.
      fail(ClientErrorCode.SocketError, `cannot open WebSocket: ${String(cause)}`, { cause });
      finish();
      return;
    }
    socket = s;
    goodbye = undefined;
    s.onopen = noop;
    s.onmessage = (event) => {
      if (socket === s) onFrame(event.data);
    };
    s.onerror = (event) => {
      if (socket === s) fail(ClientErrorCode.SocketError, "WebSocket error", { cause: event });
    };
    s.onclose = (event) => {
      const code: number = event.code ?? CloseCode.Abnormal;
      if (socket === s) end(disconnectReasonFor(code), code);
    };
    if (Number.isFinite(connectTimeoutMs)) {
      connectTimer = clock.setTimeout(() => {
        connectTimer = undefined;
        fail(ClientErrorCode.ConnectTimeout, `no welcome within ${connectTimeoutMs} ms`);
        end(DisconnectReason.Timeout, undefined, CloseCode.Normal);
      }, connectTimeoutMs);
    }
  }

  /**
   * The connection (or attempt) is over: stop its timers, close the socket if
   * we are the ones ending it (`closeWith`), report, and retry or stop.
   */
  function end(reason: DisconnectReason, code: number | undefined, closeWith?: number): void {
    const s = socket;
    socket = undefined;
    connectTimer = clear(connectTimer);
    pingTimer = clear(pingTimer);
    stableTimer = clear(stableTimer);
    silence?.stop();
    silence = undefined;
    pending.clear();
    if (s && closeWith !== undefined) closeSocket(s, closeWith, undefined, true);

    const window = goodbye;
    goodbye = undefined;
    const willReconnect =
      reason !== DisconnectReason.ClientClosed &&
      attempt < maxAttempts &&
      shouldReconnect(code ?? CloseCode.Abnormal);
    if (!willReconnect) {
      events.emit(
        "disconnect",
        code === undefined ? { reason, willReconnect } : { reason, code, willReconnect },
      );
      finish();
      return;
    }
    const delayMs = window ? goodbyeDelay(window, random()) : backoff(attempt, random());
    events.emit(
      "disconnect",
      code === undefined
        ? { reason, willReconnect, delayMs }
        : { reason, code, willReconnect, delayMs },
    );
    // A disconnect or state listener may close() the client: then no retry.
    if (state === "closed") return;
    retryTimer = clock.setTimeout(reconnectNow, delayMs);
    setState("reconnecting");
    if (retryTimer !== undefined) events.emit("reconnecting", { attempt, delayMs });
  }

  function reconnectNow(): void {
    retryTimer = clear(retryTimer);
    attempt++;
    openSocket();
  }

  /**
   * Closes a socket, ignoring anything it says afterwards. `hard` for a peer
   * we believe dead: `ws` in Node would otherwise keep the TCP socket for its
   * 30 s close handshake.
   */
  function closeSocket(s: WebSocketLike, code: number, reason?: string, hard = false): void {
    // No-ops, not null: `ws` throws an 'error' event that has no listener.
    s.onopen = s.onmessage = s.onerror = s.onclose = noop;
    try {
      s.close(code, reason);
    } catch {
      // Already closing, or a code the implementation refuses: it is gone either way.
    }
    if (hard) (s as { terminate?: () => void }).terminate?.();
  }

  /** The client is `closed` for good: drop page listeners, report what never left. */
  function finish(): void {
    retryTimer = clear(retryTimer);
    stopWatchingPage();
    stopWatchingPage = noop;
    setState("closed");
    for (const item of outbox.splice(0)) {
      fail(ClientErrorCode.OutboxDiscarded, "closed before the message could be sent", {
        data: item.data,
      });
    }
  }

  /**
   * The wall-clock deadline, checked before any send and on every wake-up: a
   * throttled or frozen page may run this long after the silence timer should
   * have fired. True when the connection is still alive.
   */
  function alive(): boolean {
    if (!silence?.expired) return true;
    end(DisconnectReason.Timeout, CloseCode.HeartbeatTimeout, CloseCode.HeartbeatTimeout);
    return false;
  }

  function armPing(delayMs: number): void {
    pingTimer = clear(pingTimer);
    pingTimer = clock.setTimeout(ping, Math.max(0, delayMs));
  }

  function ping(): void {
    // Called by the ping timer, or early by a liveness check: either way the
    // next beat is counted from this one.
    pingTimer = clear(pingTimer);
    if (state !== "open" || paused || !alive() || !socket) return;
    const now = clock.now();
    pending.set(seq, now);
    if (pending.size > MAX_PENDING_PINGS) pending.delete(pending.keys().next().value as number);
    socket.send(encodeClientMessage({ type: "ping", seq }));
    seq = seq === MAX_SEQ ? 0 : seq + 1;
    stats.pingsSent++;
    stats.lastPingAt = now;
    armPing(terms!.intervalMs);
  }

  function onFrame(raw: unknown): void {
    // A frame that waited out a frozen page's deadline in a buffer does not
    // prove the server alive now.
    if (!alive()) return;
    silence?.touch();
    stats.lastHeardAt = clock.now();
    const decoded = decodeServerFrame(raw);
    if (!decoded.ok) {
      // The contract: a client ignores types it does not know (forward compatibility).
      if (decoded.error.code !== DecodeErrorCode.UnknownType) {
        fail(ClientErrorCode.InvalidMessage, decoded.error.message, { cause: decoded.error });
      }
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case "welcome":
        if (state !== "open") onWelcome(message.sessionId, message.heartbeat);
        return;
      case "pong":
        onPong(message.seq);
        return;
      case "message": {
        const result = validateData(options.protocol?.server, message.data);
        if (result.ok) events.emit("message", result.value);
        else fail(ClientErrorCode.InvalidInbound, result.message, { data: message.data });
        return;
      }
      case "error":
        fail(message.code, message.message);
        return;
      case "goodbye":
        goodbye = message.reconnect;
        return;
    }
  }

  function onWelcome(id: string, heartbeat: HeartbeatTerms): void {
    connectTimer = clear(connectTimer);
    sessionId = id;
    terms = heartbeat;
    seq = 0;
    rtt.latestMs = rtt.smoothedMs = undefined;
    silence = new SilenceTimer(clock, heartbeat.timeoutMs, () => {
      end(DisconnectReason.Timeout, CloseCode.HeartbeatTimeout, CloseCode.HeartbeatTimeout);
    });
    if (!paused) {
      silence.start();
      armPing(heartbeat.intervalMs);
    }
    if (retry) {
      stableTimer = clock.setTimeout(() => {
        stableTimer = undefined;
        attempt = 0;
      }, stableAfterMs);
    }
    // Queued messages go out before any listener can send a newer one.
    const previous = state;
    state = "open";
    for (const item of outbox.splice(0)) socket!.send(item.text);
    events.emit("state", { state: "open", previous });
    if (state === "open") events.emit("open", { sessionId: id, heartbeat });
  }

  function onPong(pongSeq: number): void {
    stats.pongsReceived++;
    const sentAt = pending.get(pongSeq);
    if (sentAt === undefined) return;
    for (const key of pending.keys()) if (key <= pongSeq) pending.delete(key);
    const rttMs = clock.now() - sentAt;
    rtt.latestMs = rttMs;
    rtt.smoothedMs =
      rtt.smoothedMs === undefined ? rttMs : rtt.smoothedMs + RTT_GAIN * (rttMs - rtt.smoothedMs);
    // Re-arm the next ping from this network callback: a timer armed here
    // starts a fresh chain and escapes Chrome's intensive throttling. The
    // cadence stays intervalMs from the previous ping.
    if (state === "open" && !paused && stats.lastPingAt !== undefined) {
      armPing(stats.lastPingAt + terms!.intervalMs - clock.now());
    }
    events.emit("pong", { seq: pongSeq, rttMs });
  }

  function onPageEvent(type: PageEvent): void {
    if (type === "online" && retryTimer !== undefined) {
      // The network is back: try now instead of waiting out the backoff.
      reconnectNow();
    } else if (state === "open" && !paused && alive()) {
      // A ping now; its answer must come before the silence deadline, which
      // is never later than timeoutMs from now.
      ping();
    }
  }

  return {
    get state() {
      return state;
    },
    get sessionId() {
      return sessionId;
    },
    get rtt() {
      return { ...rtt };
    },
    get stats() {
      return { ...stats, reconnectAttempt: attempt, queued: outbox.length };
    },
    heartbeat: {
      get terms() {
        return terms;
      },
      get paused() {
        return paused;
      },
      pause() {
        paused = true;
        pingTimer = clear(pingTimer);
        silence?.stop();
      },
      resume() {
        if (!paused) return;
        paused = false;
        if (state === "open") {
          silence?.start();
          ping();
        }
      },
    },
    connect() {
      if (state !== "closed") return;
      attempt = 0;
      stopWatchingPage = watchPage(onPageEvent);
      setState("connecting");
      openSocket();
    },
    send(data) {
      if (state === "closed") {
        fail(ClientErrorCode.NotConnected, "the client is closed; call connect() first", { data });
        return false;
      }
      const checked =
        data === undefined
          ? ({ ok: false, message: "data is required" } as const)
          : validateData(options.protocol?.client, data);
      let text: string | undefined;
      try {
        if (checked.ok) text = encodeClientMessage({ type: "message", data: checked.value });
      } catch (cause) {
        fail(ClientErrorCode.InvalidOutbound, `data is not JSON: ${String(cause)}`, {
          data,
          cause,
        });
        return false;
      }
      if (text === undefined) {
        fail(ClientErrorCode.InvalidOutbound, checked.ok ? "invalid data" : checked.message, {
          data,
        });
        return false;
      }
      if (state === "open" && alive() && socket?.readyState === OPEN) {
        socket.send(text);
        return true;
      }
      // alive() may just have found the connection dead, with no reconnect.
      if ((state as ClientState) === "closed") {
        fail(ClientErrorCode.NotConnected, "the connection ended and will not reconnect", { data });
        return false;
      }
      if (outbox.length >= maxQueued) {
        fail(ClientErrorCode.OutboxOverflow, `outbox full (${maxQueued} messages)`, { data });
        return false;
      }
      outbox.push({ data, text });
      return true;
    },
    close(code = CloseCode.Normal, reason) {
      if (state === "closed") return;
      if (socket) {
        closeSocket(socket, code, reason);
        // Reports client_closed with the code, and never reconnects.
        end(DisconnectReason.ClientClosed, code);
      } else {
        finish();
      }
    },
    on: events.on,
  };
}

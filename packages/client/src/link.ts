import {
  ACK_EVERY_MESSAGES,
  type Clock,
  CloseCode,
  DisconnectReason,
  disconnectReasonFor,
  encodeAckFrame,
  encodeClientMessage,
  type HeartbeatTerms,
  MAX_SEQ,
  type ReconnectWindow,
  SeqVerdict,
  SilenceTimer,
  type TimerHandle,
  type WelcomeMessage,
} from "@heartline/protocol";
import { decodeServerFrame } from "./decode-server-frame.js";
import { ClientErrorCode } from "./errors.js";
import { type Figures, recordRtt } from "./figures.js";
import { createPace, type Pace } from "./pace.js";
import type { Outgoing, Session } from "./session.js";
import type { ClientDisconnectReason } from "./types.js";
import { OPEN, type WebSocketLike } from "./websocket.js";

/** Unanswered pings remembered for RTT; a server that never pongs must not grow this. */
const MAX_PENDING_PINGS = 32;

const noop = (): void => {};

/** How a link ended, for the session to report and decide on a retry. */
export interface LinkEnd {
  reason: ClientDisconnectReason;
  /** The close code, when there was one. */
  code: number | undefined;
  /** The window from the server's `goodbye` on this link, if it sent one. */
  goodbye: ReconnectWindow | undefined;
  /** For the link's own silence verdict: from the last frame heard to the verdict. */
  detectedAfterMs?: number;
  /** The HTTP status of a refused upgrade, where the runtime shows it (Node's `ws`; never a browser). */
  status?: number;
  /** The refusal's `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** Never worth a retry (an attempt that could not open and would fail the same way). */
  final?: boolean;
}

/** `ws`'s event for a refused upgrade (a browser has none: it sees 1006). */
interface RefusalSource {
  on?(
    event: "unexpected-response",
    listener: (
      request: unknown,
      response: { statusCode?: number; headers: Record<string, unknown> },
    ) => void,
  ): void;
  terminate?(): void;
}

/** What a link needs from the client that made it. */
export interface LinkHost {
  readonly clock: Clock;
  readonly figures: Figures;
  /** The session's heartbeat switch (`paused`) and, on a resumable session, its seq counters. */
  readonly session: Session;
  reportError(code: string, message: string, extra?: { data?: unknown; cause?: unknown }): void;
  /** Something the client's snapshot shows changed without an event (an ack). */
  changed(): void;
  /** The server's `welcome`, once per link; the link's heartbeat is already running. */
  welcomed(welcome: WelcomeMessage): void;
  /** The `data` of a server `message` (in order, without duplicates), not yet validated. */
  message(data: unknown): void;
  pong(seq: number, rttMs: number): void;
  /** Once per link, after its socket and timers are gone. */
  ended(end: LinkEnd): void;
}

/**
 * One connection attempt: its socket and everything that dies with it (the
 * connect timeout, the silence watch, the ping schedule and its pending pings,
 * the `goodbye` window). Made for each attempt and dropped when it ends, so
 * nothing of one socket can leak into the next.
 */
export interface Link {
  /** Welcomed and alive: a frame written now goes out (false: the link may just have ended, silent). */
  ready(): boolean;
  /**
   * Sends an application message (after `ready()`): straight out when
   * nothing waits and the pace allows, else held in the session's outbox
   * behind what waits. False when it had to be held and the outbox is full.
   */
  send(message: Outgoing): boolean;
  /** Right after the `welcome`: the replay, then the outbox, go out in order, paced. */
  flushAfterWelcome(replay: string[]): void;
  /** A page-life event: ends the link if its deadline passed, else pings now. */
  checkNow(): void;
  pauseHeartbeat(): void;
  /** A ping now and a fresh silence deadline (when welcomed). */
  resumeHeartbeat(): void;
  /** The app's `close()`: a normal close handshake, reported `client_closed` with `code`. */
  close(code: number, reason?: string): void;
}

/** Takes over `socket` (just constructed) for one attempt. */
export function openLink(socket: WebSocketLike, host: LinkHost, connectTimeoutMs: number): Link {
  const { clock, figures, session } = host;
  let ended = false;
  /** Set by the `welcome`: the link is open. */
  let terms: HeartbeatTerms | undefined;
  let silence: SilenceTimer | undefined;
  let goodbye: ReconnectWindow | undefined;
  let connectTimer: TimerHandle | undefined;
  let pingTimer: TimerHandle | undefined;
  let seq = 0;
  let lastPingAt: number | undefined;
  /** The seq of the latest ping while it waits for its pong. */
  let unanswered: number | undefined;
  const pending = new Map<number, number>();
  /** Within the server's `welcome.rate` (pace.ts); set by the welcome. */
  let pace: Pace | undefined;
  /** The one timer for frames held back by the pace. */
  let flushTimer: TimerHandle | undefined;
  /** A beat came while the pace had no token: it goes first when one comes. */
  let pingOwed = false;
  /** The beat (or 32 received) asked for the owed ack; otherwise it rides ahead of the next message. */
  let ackWanted = false;
  let replay: string[] = [];
  let replayed = 0;

  const clear = (handle: TimerHandle | undefined): undefined => {
    if (handle !== undefined) clock.clearTimeout(handle);
    return undefined;
  };

  socket.onopen = noop;
  socket.onmessage = (event) => {
    if (!ended) onFrame(event.data);
  };
  /** The refused upgrade's status and Retry-After, when `ws` showed them. */
  let refusal: { status: number; retryAfterMs?: number } | undefined;
  const source = socket as RefusalSource;
  if (typeof source.on === "function") {
    // Listening makes `ws` leave the aborting to us (terminate: error, then close 1006).
    source.on("unexpected-response", (_request, response) => {
      const seconds = Number(response.headers["retry-after"]);
      refusal = { status: response.statusCode ?? 0 };
      if (seconds >= 0) refusal.retryAfterMs = seconds * 1000;
      source.terminate?.();
    });
  }
  socket.onerror = (event) => {
    // A refusal is reported as one, by the disconnect, not as a socket error.
    if (!ended && !refusal) {
      host.reportError(ClientErrorCode.SocketError, "WebSocket error", { cause: event });
    }
  };
  socket.onclose = (event) => {
    const code: number = event.code ?? CloseCode.Abnormal;
    if (refusal) {
      const { status, retryAfterMs } = refusal;
      endAttempt(
        status === 401 ? DisconnectReason.Unauthorized : "refused",
        undefined,
        undefined,
        undefined,
        status,
        retryAfterMs,
      );
    } else endAttempt(disconnectReasonFor(code), code);
  };
  if (Number.isFinite(connectTimeoutMs)) {
    connectTimer = clock.setTimeout(() => {
      connectTimer = undefined;
      host.reportError(ClientErrorCode.ConnectTimeout, `no welcome within ${connectTimeoutMs} ms`);
      // An `error` listener may have closed the client meanwhile: then this is a no-op.
      endAttempt(DisconnectReason.Timeout, undefined, CloseCode.Normal);
    }, connectTimeoutMs);
  }

  /**
   * The one way a link ends: stop its timers, close the socket if we are the
   * ones ending it (`closeWith`, hard: the peer may be dead), report once.
   */
  function endAttempt(
    reason: ClientDisconnectReason,
    code: number | undefined,
    closeWith?: number,
    detectedAfterMs?: number,
    status?: number,
    retryAfterMs?: number,
  ) {
    if (ended) return;
    ended = true;
    connectTimer = clear(connectTimer);
    pingTimer = clear(pingTimer);
    flushTimer = clear(flushTimer);
    silence?.stop();
    pending.clear();
    if (unanswered !== undefined) figures.missedBeats++;
    if (closeWith !== undefined) closeSocket(closeWith, undefined, true);
    const end: LinkEnd = { reason, code, goodbye };
    if (detectedAfterMs !== undefined) end.detectedAfterMs = detectedAfterMs;
    if (status !== undefined) end.status = status;
    if (retryAfterMs !== undefined) end.retryAfterMs = retryAfterMs;
    host.ended(end);
  }

  /**
   * Closes the socket, ignoring anything it says afterwards. `hard` for a peer
   * we believe dead: `ws` in Node would otherwise keep the TCP socket for its
   * 30 s close handshake.
   */
  function closeSocket(code: number, reason?: string, hard = false): void {
    // No-ops, not null: `ws` throws an 'error' event that has no listener.
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = noop;
    try {
      socket.close(code, reason);
    } catch {
      // Already closing, or a code the implementation refuses: it is gone either way.
    }
    if (hard) (socket as { terminate?: () => void }).terminate?.();
  }

  const endSilent = (): void =>
    endAttempt(
      DisconnectReason.Timeout,
      CloseCode.HeartbeatTimeout,
      CloseCode.HeartbeatTimeout,
      clock.now() - silence!.lastHeardAt,
    );

  /**
   * The wall-clock deadline, checked before any send and on every wake-up: a
   * throttled or frozen page may run this long after the silence timer should
   * have fired. Ends the link (true) when it has passed.
   */
  function endIfSilent(): boolean {
    if (!silence?.expired) return false;
    endSilent();
    return true;
  }

  function armPing(delayMs: number): void {
    pingTimer = clear(pingTimer);
    pingTimer = clock.setTimeout(ping, Math.max(0, delayMs));
  }

  /** Acknowledges what arrived since the last ack (nothing when there is nothing new), unpaced. */
  function sendAck(): void {
    const seq = session.resumable ? session.ackDue() : undefined;
    if (seq !== undefined) socket.send(encodeAckFrame(seq));
  }

  /** Something waits for the pace: new messages go behind it. */
  const waiting = (): boolean =>
    flushTimer !== undefined || pingOwed || replayed < replay.length || session.queued > 0;

  /**
   * Writes what waits, in order, as far as the pace allows: a due ping
   * first (it may take the last token), then an owed ack, the replay and the
   * outbox (each leaving `reserve` tokens for the next ping, so messages
   * never starve the beat). What is left waits for one timer, set to when
   * the next token comes. O(1) per frame written.
   */
  function flush(): void {
    flushTimer = clear(flushTimer);
    if (ended || !terms || endIfSilent()) return;
    const paced = pace!;
    let wait = pingOwed ? paced.waitFor(1) : 0;
    if (pingOwed && wait === 0) {
      // The owed ack goes ahead of its beat when there is a token for both.
      if (session.resumable && session.owesAck && paced.waitFor(2) === 0) {
        paced.take();
        sendAck();
      }
      paced.take();
      writePing();
    }
    const need = 1 + paced.reserve;
    while (wait === 0) {
      const message = replayed < replay.length || session.queued > 0;
      const ack = session.resumable && session.owesAck && (ackWanted || message);
      if (!ack && !message) {
        ackWanted = false;
        return;
      }
      wait = paced.waitFor(need);
      if (wait > 0) break;
      paced.take();
      if (ack) {
        ackWanted = false;
        sendAck();
      } else {
        socket.send(
          replayed < replay.length ? replay[replayed++]! : session.stamp(session.nextQueued()!),
        );
      }
    }
    flushTimer = clock.setTimeout(flushHeld, wait);
  }

  /** The flush timer: what it sends changes the snapshot's queued/unacked, with no event. */
  function flushHeld(): void {
    flushTimer = undefined;
    flush();
    host.changed();
  }

  /** The owed ack should go now (a beat, 32 received, a pause), paced. */
  function ackSoon(): void {
    ackWanted = true;
    if (flushTimer === undefined) flush();
  }

  function ping(): void {
    // Called by the ping timer, or early by a liveness check: either way the
    // next beat is counted from this one. Acks ride on the beat, so a message
    // is acked at most one interval after it arrived, with no timer of its own.
    pingTimer = clear(pingTimer);
    if (ended || !terms || endIfSilent()) return;
    ackWanted = true;
    pingOwed = !session.paused;
    flush();
  }

  /** The beat itself, once the pace gave it a token; the next is armed X from now. */
  function writePing(): void {
    pingOwed = false;
    const now = clock.now();
    pending.set(seq, now);
    if (pending.size > MAX_PENDING_PINGS) pending.delete(pending.keys().next().value as number);
    socket.send(encodeClientMessage({ type: "ping", seq }));
    if (unanswered !== undefined) figures.missedBeats++;
    unanswered = seq;
    seq = seq === MAX_SEQ ? 0 : seq + 1;
    figures.pingsSent++;
    figures.lastPingAt = lastPingAt = now;
    armPing(terms!.intervalMs);
  }

  function onFrame(raw: unknown): void {
    // A frame that waited out a frozen page's deadline in a buffer does not
    // prove the server alive now.
    if (endIfSilent()) return;
    silence?.touch();
    figures.lastHeardAt = clock.now();
    const decoded = decodeServerFrame(raw);
    if (!decoded.ok) {
      // The contract: a client ignores types it does not know (forward compatibility).
      // The code as a literal (type-checked against DecodeErrorCode), as the
      // client's decoder writes them: the table would cost bundle bytes.
      if (decoded.error.code !== "unknown_type") {
        host.reportError(ClientErrorCode.InvalidMessage, decoded.error.message, {
          cause: decoded.error,
        });
      }
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case "welcome":
        if (!terms) onWelcome(message);
        return;
      case "pong":
        onPong(message.seq);
        return;
      case "message":
        onMessage(message.data, message.seq);
        return;
      case "ack":
        // A plain v1 session ignores it, as a v1 client would a type it does not know.
        if (terms && session.resumable && !session.acked(message.seq)) {
          host.reportError(
            ClientErrorCode.InvalidMessage,
            `ack ${message.seq} for a message never sent`,
          );
        }
        host.changed();
        return;
      case "error":
        host.reportError(message.code, message.message);
        return;
      case "goodbye":
        goodbye = message.reconnect;
        return;
    }
  }

  function onWelcome(welcome: WelcomeMessage): void {
    const heartbeat = welcome.heartbeat;
    connectTimer = clear(connectTimer);
    terms = heartbeat;
    figures.rtt.latestMs = figures.rtt.smoothedMs = undefined;
    silence = new SilenceTimer(clock, heartbeat.timeoutMs, endSilent);
    pace = createPace(clock, welcome.rate);
    if (!session.paused) {
      silence.start();
      armPing(heartbeat.intervalMs);
    }
    host.welcomed(welcome);
  }

  function onMessage(data: unknown, seq: number | undefined): void {
    // Before a welcome the session's counters are the previous connection's: plain v1 handling.
    if (!session.resumable || !terms) {
      host.message(data);
      return;
    }
    const fit = session.receive(seq);
    if (fit === SeqVerdict.Gap) {
      // Something between the last delivered message and this one is missing:
      // drop the connection and resume, the server replays from the last ack.
      host.reportError(
        ClientErrorCode.InvalidMessage,
        seq === undefined ? "message without seq" : `message seq ${seq} after a gap`,
      );
      endAttempt(DisconnectReason.ProtocolError, undefined, CloseCode.BadMessage);
      return;
    }
    if (fit === SeqVerdict.Deliver) host.message(data);
    // A listener may have closed the client meanwhile.
    if (ended) return;
    if (session.unackedIn >= ACK_EVERY_MESSAGES) ackSoon();
    // Paused: no ping timer runs, so one beat carries the ack (one timer per interval at most).
    else if (pingTimer === undefined) armPing(terms!.intervalMs);
  }

  function onPong(pongSeq: number): void {
    figures.pongsReceived++;
    const sentAt = pending.get(pongSeq);
    if (sentAt === undefined) return;
    for (const key of pending.keys()) if (key <= pongSeq) pending.delete(key);
    // Only the latest ping's pong is in time; an older one's came after the next ping.
    if (pongSeq === unanswered) unanswered = undefined;
    const rttMs = clock.now() - sentAt;
    recordRtt(figures.rtt, rttMs);
    // Re-arm the next ping from this network callback: a timer armed here
    // starts a fresh chain and escapes Chrome's intensive throttling. The
    // cadence stays intervalMs from the previous ping.
    if (!session.paused && lastPingAt !== undefined) {
      armPing(lastPingAt + terms!.intervalMs - clock.now());
    }
    host.pong(pongSeq, rttMs);
  }

  return {
    ready: () => !ended && terms !== undefined && !endIfSilent() && socket.readyState === OPEN,
    send(message) {
      // An owed ack rides ahead of the message (the contract), so it takes the flush's path.
      if (!waiting() && !session.owesAck && pace!.waitFor(1 + pace!.reserve) === 0) {
        // On a resumable session a sent message stays held until acked.
        if (session.resumable && session.full) return false;
        pace!.take();
        socket.send(session.stamp(message));
        return true;
      }
      if (!session.hold(message)) return false;
      if (flushTimer === undefined) flush();
      return true;
    },
    flushAfterWelcome(frames) {
      replay = frames;
      flush();
    },
    checkNow() {
      // A ping now; its answer must come before the silence deadline, which
      // is never later than timeoutMs from now.
      if (!ended && terms && !session.paused && !endIfSilent()) ping();
    },
    pauseHeartbeat() {
      // The beat that would carry a due ack is cancelled: ack now (sooner is allowed).
      pingOwed = false;
      if (!ended && terms) ackSoon();
      pingTimer = clear(pingTimer);
      silence?.stop();
    },
    resumeHeartbeat() {
      if (ended || !terms) return;
      silence!.start();
      ping();
    },
    close(code, reason) {
      // A deliberate end: the server reports what it holds unacknowledged as
      // undelivered, so what arrived is acknowledged before the close frame.
      // Unpaced: one frame, well inside the half burst the pace keeps spare.
      if (terms && socket.readyState === OPEN) sendAck();
      closeSocket(code, reason);
      // Reports client_closed with the code, and never reconnects.
      endAttempt(DisconnectReason.ClientClosed, code);
    },
  };
}

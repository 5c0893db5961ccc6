import {
  ACK_EVERY_MESSAGES,
  CloseCode,
  type DecodeClientOptions,
  DisconnectReason,
  decodeClientFrame,
  disconnectReasonFor,
  ErrorCode,
  encodeAckFrame,
  encodeMessageFrame,
  encodeServerMessage,
  SeqVerdict,
  seqVerdict,
  validateData,
} from "@heartline/protocol";
import type { Connection, ConnectionState } from "./connection-api.js";
import type { ConnectionHost } from "./connection-host.js";
import type { Deadlined } from "./deadline-queue.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import { pongFor } from "./ping-handling.js";
import { drawTokens } from "./rate-limit.js";
import type { AckOwing } from "./resume/ack-queue.js";
import type { SessionOwner, StoredSession } from "./resume/store-api.js";
import type { ServerTransport, TransportSink } from "./transport.js";

/** Measures close reasons (123 bytes at most, UTF-8) without `Buffer`. */
const utf8 = new TextEncoder();

/** Decoding on a resumable session (`ack` allowed); one frozen object, nothing allocated per frame. */
const RESUMABLE: DecodeClientOptions = Object.freeze({ resumable: true });

/** The resumable session a connection holds (its data type is the server's messages). */
// biome-ignore lint/correctness/noUnusedVariables: TClient keeps the call sites' shape
export type ConnectionSession<TClient, TServer, TAuth> = StoredSession<TServer, TAuth>;

type Host<TClient, TServer, TAuth> = ConnectionHost<
  ServerConnection<TClient, TServer, TAuth>,
  TClient,
  TServer,
  ConnectionSession<TClient, TServer, TAuth>
>;

/**
 * One client connection: the state machine between a transport and the
 * server that holds it (its `ConnectionHost`). A class (not closures) so that tens of thousands of them share one
 * shape and cost a few fields each. Per inbound frame the work is O(1) and
 * allocates nothing beyond what decoding needs: no timer is touched (the
 * frame's time is recorded in `lastHeardAt`, which the host's one deadline
 * queue checks when the earliest deadline comes) and no Date is made.
 */
export class ServerConnection<TClient = unknown, TServer = unknown, TAuth = unknown>
  implements Connection<TServer, TAuth>, TransportSink, Deadlined, AckOwing
{
  /** Set once, before `start`: a resumed connection takes its session's id. */
  sessionId: string;
  readonly remoteAddress: string | undefined;
  readonly auth: TAuth;
  readonly connectedAt: number;
  readonly #host: Host<TClient, TServer, TAuth>;
  readonly #transport: ServerTransport;
  /**
   * When the last data frame arrived (or the connection opened), in clock
   * time. Also when the rate limiter's bucket was last refilled: it refills
   * on every data frame, so one field serves both.
   */
  lastHeardAt: number;
  /** The slot in the host's deadline queue (-1 when not queued); the queue's to write. */
  queueSlot = -1;
  /** The end was decided and reported: the single guard behind "exactly one disconnect". */
  #ended = false;
  /** The transport reported the socket gone (or was destroyed at the shutdown deadline). */
  #gone = false;
  /** Token buckets of the frame and byte budgets, refilled lazily from the clock on each frame. */
  #tokens: number;
  #byteTokens: number;
  /** This connection's share of the host's outbound total (see OutboundBudget). */
  #counted = 0;
  /**
   * The resumable session this connection holds; undefined on a plain v1
   * connection, and from the moment this connection's end is decided (or it
   * was replaced, or its session overflowed).
   */
  #session: ConnectionSession<TClient, TServer, TAuth> | undefined = undefined;
  /** Client messages received (delivered or dropped as duplicates) since the last ack sent. */
  #ackOwed = 0;
  /** In the host's ack queue; the queue's and `flushAck`'s to write. */
  ackQueued = false;
  /**
   * Bound to a session and no data frame yet: the client has not proved it
   * read this connection's token, so the session still takes the previous
   * one. The first frame clears it (one check per frame, nothing more).
   */
  #tokenUnproven = false;
  /** It was bound to a resumable session (kept after the end: the session may outlive it). */
  #bound = false;
  /** Who holds the session in the store: this process's node and this connection's id (set by resumption). */
  owner: SessionOwner | undefined = undefined;
  /**
   * The highest seq of this session written to this socket (the journal's
   * gate: a frame is written only once the store recorded it, in order).
   */
  #lastWritten = 0;
  /** The highest seq an `ack` frame of this connection said. */
  #ackSent = 0;
  /** The store recorded more: send what became allowed. Set on the session while bound (made at the first bind only). */
  #recorded: (() => void) | undefined = undefined;

  constructor(
    host: Host<TClient, TServer, TAuth>,
    transport: ServerTransport,
    sessionId: string,
    remoteAddress: string | undefined,
    auth: TAuth,
  ) {
    const options = host.options;
    this.#host = host;
    this.#transport = transport;
    this.sessionId = sessionId;
    this.remoteAddress = remoteAddress;
    this.auth = auth;
    this.connectedAt = options.clock.now();
    this.lastHeardAt = this.connectedAt;
    this.#tokens = options.rateLimit?.burst ?? 0;
    this.#byteTokens = options.byteRateLimit?.burst ?? 0;
  }

  /** @deprecated `lastHeardAt`. */
  get lastSeenAt(): number {
    return this.lastHeardAt;
  }

  get isOpen(): boolean {
    return !this.#ended;
  }

  get resumable(): boolean {
    return this.#bound;
  }

  get state(): ConnectionState {
    if (!this.#ended) return "live";
    return (this.#bound && this.#host.sessionRoute(this.sessionId)?.state) || "ended";
  }

  /** Binds the resumable session (before `start`); the connection speaks its seq and acks from now. */
  bind(session: ConnectionSession<TClient, TServer, TAuth>): void {
    this.#session = session;
    this.#bound = true;
    this.sessionId = session.sessionId;
    this.#tokenUnproven = true;
    // Nothing of it written here yet: `replay` writes what the client has not acknowledged.
    this.#lastWritten = session.unacked.ackedSeq;
    this.#ackSent = session.recordedIn;
    // Bound once per connection (smaller than a closure); never called by the in-process store.
    this.#recorded ??= this.#afterRecorded.bind(this);
    session.onRecorded = this.#recorded;
  }

  /** Sends `welcome` (always the first frame) and starts the silence watch. */
  start(welcome: string): void {
    this.#transport.send(welcome);
    this.#host.counters.framesOut++;
    // Silence counts from `connectedAt`, the start of `lastHeardAt`.
    this.#host.watch(this);
  }

  // ---- the adapter's side (TransportSink) ----

  receive(text: string): void {
    if (this.#ended) return;
    const host = this.#host;
    host.counters.framesIn++;
    // Every data frame counts as a sign of life, valid or not.
    const now = host.options.clock.now();
    const previous = this.lastHeardAt;
    this.lastHeardAt = now;
    if (this.#tokenUnproven) {
      // The client sends nothing before it has read the welcome, so any
      // frame proves it holds the new token: the one it resumed with is spent.
      this.#tokenUnproven = false;
      this.#session?.tokenProven();
    }
    if (!this.#withinBudgets(now - previous, text.length)) {
      this.#closeWith(CloseCode.RateLimited);
      return;
    }
    const session = this.#session;
    // Without a session the plain v1 table: an `ack` is then an unknown type (4400).
    const decoded = decodeClientFrame(text, session === undefined ? undefined : RESUMABLE);
    if (!decoded.ok) {
      this.#closeWith(CloseCode.BadMessage);
      return;
    }
    const message = decoded.message;
    if (message.type === "ping") {
      // Answered at once (ping-handling.ts); its time already counted as life above.
      this.#write(pongFor(message.seq));
      return;
    }
    if (message.type === "ack") {
      // Cumulative; an ack above the highest seq sent is a bad message (only decoded with a session).
      if (session === undefined || !session.unacked.ack(message.seq)) {
        this.#closeWith(CloseCode.BadMessage);
      } else session.acked(message.seq);
      return;
    }
    if (session !== undefined) {
      const verdict = seqVerdict(message.seq, session.receivedSeq);
      if (verdict === SeqVerdict.Gap) {
        // A missing seq or a gap: a message was lost in between, which the contract cannot repair.
        this.#closeWith(CloseCode.BadMessage);
        return;
      }
      if (verdict === SeqVerdict.Duplicate) {
        // A replay of one already delivered: dropped, acknowledged again.
        this.#oweAck();
        return;
      }
      // Received, even if its data fails the schema below (the client hears `error`, as in v1).
      session.receivedSeq = message.seq!;
      session.received(message.seq!);
    }
    const valid = validateData(host.clientSchema, message.data);
    if (!valid.ok) {
      this.#write(
        encodeServerMessage({
          type: "error",
          code: ErrorCode.InvalidPayload,
          message: valid.message,
        }),
      );
      if (session !== undefined) this.#oweAck();
      return;
    }
    host.counters.messagesIn++;
    // Owed before delivery, so a reply the listener sends carries the ack
    // ahead of it (`sendNumbered`); the message is the application's from here.
    if (session !== undefined) this.#oweAck();
    // The seq goes with it on a resumable session, for deduplication across a crash (PROTOCOL.md "Several server processes").
    host.connectionMessage(this, valid.value, session === undefined ? undefined : message.seq);
  }

  /** One more client message to acknowledge: at once at 32, else at the latest one interval from now. */
  #oweAck(): void {
    if (this.#ended) return;
    if (++this.#ackOwed >= ACK_EVERY_MESSAGES) this.flushAck();
    else if (!this.ackQueued) this.#host.queueAck(this);
  }

  /**
   * Sends the ack owed, if any (the ack queue's call, `#oweAck`'s at 32, or
   * the store's once it recorded more). An ack says no more than the store
   * recorded (`recordedIn`): what is received but not recorded yet stays
   * owed until `onRecorded` (the in-process store records at once).
   */
  flushAck(): void {
    // An ack sent now makes a queued slot stale: the queue skips it.
    this.ackQueued = false;
    const session = this.#session;
    if (this.#ackOwed === 0 || session === undefined || this.#ended) return;
    const recorded = session.recordedIn;
    if (recorded >= session.receivedSeq) this.#ackOwed = 0;
    else if (recorded <= this.#ackSent) return;
    this.#ackSent = recorded;
    this.#write(encodeAckFrame(recorded));
  }

  receiveBinary(): void {
    if (this.#ended) return;
    this.#host.counters.framesIn++;
    this.#closeWith(CloseCode.UnsupportedData);
  }

  refused(code: number, _message: string): void {
    // The transport is already closing with `code` (1002, 1007, 1008, 1009:
    // each `protocol_error` in the shared table); only the report is ours.
    this.#end(disconnectReasonFor(code), code, undefined, false);
  }

  errored(error: unknown): void {
    this.#host.connectionError(
      this,
      new HeartlineError(ServerErrorCode.TransportError, "transport error", { cause: error }),
    );
  }

  drained(): void {
    if (!this.#gone) this.#recount();
  }

  closed(code: number, hadCloseFrame: boolean): void {
    if (this.#gone) return;
    this.#gone = true;
    // Its buffer goes with the socket.
    this.#host.outbound.total -= this.#counted;
    this.#counted = 0;
    if (hadCloseFrame) this.#end(DisconnectReason.ClientClosed, code, undefined, false);
    else this.#end(DisconnectReason.ConnectionLost, undefined, undefined, false);
    this.#host.connectionGone(this);
  }

  // ---- the application's side (Connection) ----

  send(data: TServer): boolean {
    const host = this.#host;
    const valid = validateData(host.serverSchema, data);
    if (!valid.ok) {
      throw new HeartlineError(ServerErrorCode.InvalidPayload, `invalid payload: ${valid.message}`);
    }
    if (this.#ended) {
      // The session outlives its connection: kept for its client, or sent on the one that resumed it.
      if (!this.#bound) return false;
      return this.#host.sessionRoute(this.sessionId)?.deliver(data, JSON.stringify(data)) ?? false;
    }
    if (this.#session !== undefined) return this.sendNumbered(data, JSON.stringify(data));
    if (!this.#write(encodeMessageFrame(JSON.stringify(data)))) return false;
    host.counters.messagesOut++;
    return true;
  }

  close(code: number = CloseCode.Normal, reason: string = DisconnectReason.ServerClosed): void {
    // Checked before anything changes: a transport refusing the code must not strand the connection.
    if (!(code === CloseCode.Normal || (code >= 3000 && code <= 4999 && Number.isInteger(code)))) {
      throw new HeartlineError(
        ServerErrorCode.InvalidCloseCode,
        `close code ${code} is not one an application may send (1000 or 3000–4999)`,
      );
    }
    if (utf8.encode(reason).length > 123) {
      throw new HeartlineError(ServerErrorCode.InvalidCloseCode, "close reason is over 123 bytes");
    }
    // What arrived is acknowledged before the close frame: the client reports the rest.
    if (this.#ackOwed > 0) this.flushAck();
    this.#end(DisconnectReason.ServerClosed, code, reason, false);
  }

  // ---- the core's side ----

  /** Sends an already-encoded frame when open; false if ended or shed as a slow consumer. */
  writeIfOpen(text: string): boolean {
    return !this.#ended && this.#write(text);
  }

  /** True while the connection holds a resumable session (its messages need a seq each). */
  get numbered(): boolean {
    return this.#session !== undefined;
  }

  /**
   * Sends `data` (already validated; `dataJson` its JSON text, shared by a
   * broadcast) on the resumable session: numbered, and kept until acked. A
   * full buffer overflows the session: false, nothing sent. Once kept, the
   * message is the session's to deliver or report, so true even if the
   * write sheds this connection as a slow consumer (it is replayed on resume).
   */
  sendNumbered(data: TServer, dataJson: string | undefined): boolean {
    const session = this.#session;
    if (session === undefined || this.#ended) return false;
    const unacked = session.unacked;
    const seq = unacked.nextSeq;
    // The data is encoded once per broadcast; only the seq differs per session.
    const text = encodeMessageFrame(dataJson ?? "null", seq);
    if (unacked.push(data, text) === "full") {
      this.#overflow(session);
      return false;
    }
    session.sent(seq);
    this.#host.counters.messagesOut++;
    // An ack owed rides ahead of the message (no timer, no wait for the ack queue).
    if (this.#ackOwed > 0) this.flushAck();
    // Written once recorded, in order: at once with the in-process store;
    // else from the buffer when the store's flush says so (`onRecorded`).
    if (seq > session.recordedOut) return true;
    if (this.#lastWritten === seq - 1) {
      this.#lastWritten = seq;
      this.#write(text);
    } else this.#writeRecorded(session);
    return true;
  }

  /** Writes, in order, every message the store recorded and this socket was not sent yet. O(1) per frame. */
  #writeRecorded(session: ConnectionSession<TClient, TServer, TAuth>): void {
    const unacked = session.unacked;
    const upTo = Math.min(session.recordedOut, unacked.lastSeq);
    while (this.#lastWritten < upTo && !this.#ended) {
      const text = unacked.frameOf(++this.#lastWritten);
      if (text !== undefined) this.#write(text);
    }
  }

  /** The store's flush recorded more (`onRecorded`): the acks and frames it allows now. */
  #afterRecorded(): void {
    const session = this.#session;
    if (session === undefined || this.#ended) return;
    if (this.#ackOwed > 0) this.flushAck();
    this.#writeRecorded(session);
  }

  /** After a resumed welcome: every message the client has not acknowledged, in order; returns how many. */
  replay(): number {
    const session = this.#session;
    if (session === undefined) return 0;
    const count = session.unacked.size;
    // The recorded range now; anything the store has not recorded yet follows on `onRecorded`.
    this.#lastWritten = session.unacked.ackedSeq;
    this.#writeRecorded(session);
    return count;
  }

  /**
   * Another connection resumed this one's session (a takeover): 4409,
   * reported `replaced`, and the socket dropped at once, as for a timeout
   * (the client is most likely gone: that is why it came back).
   */
  replace(): void {
    this.#unbind();
    this.#end(DisconnectReason.Replaced, CloseCode.Replaced, DisconnectReason.Replaced, true);
  }

  /** The unacknowledged buffer is full: the session ends ("overflow") and this connection closes 1013. */
  #overflow(session: ConnectionSession<TClient, TServer, TAuth>): void {
    // Unbound first, so this end does not keep the session for the window.
    this.#unbind();
    this.#closeWith(CloseCode.TryAgainLater);
    this.#host.endSession(session, "overflow");
  }

  /** Shutdown: `goodbye`, then 1001. */
  goAway(goodbye: string): void {
    if (this.#ended) return;
    // What arrived is acknowledged first, so a resume replays no more than it must.
    if (this.#ackOwed > 0) this.flushAck();
    // Not through the buffer bound: the client is told to leave either way.
    this.#transport.send(goodbye);
    this.#host.counters.framesOut++;
    this.#closeWith(CloseCode.GoingAway);
  }

  /** Transport-level keep-alive ping (the shared sweep). */
  keepAlive(): void {
    if (!this.#ended) this.#transport.ping?.();
  }

  /** The shutdown deadline passed: drop the socket and stop waiting for it. */
  destroy(): void {
    if (this.#gone) return;
    this.#transport.terminate();
    this.closed(CloseCode.Abnormal, false);
  }

  // ---- internals ----

  /** The connection lets go of its session (its end, a takeover, an overflow): the store's flush no longer calls it. */
  #unbind(): void {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    if (session.onRecorded === this.#recorded) session.onRecorded = undefined;
  }

  #write(text: string): boolean {
    const transport = this.#transport;
    const host = this.#host;
    const buffered = this.#recount();
    if (buffered + text.length > host.options.maxBufferedBytes) {
      // A slow consumer: shed it rather than queue without bound.
      this.#closeWith(CloseCode.TryAgainLater);
      return false;
    }
    // Over the total, only a connection holding a backlog is shed: one whose socket takes what it is given never is.
    if (buffered > 0 && host.outbound.exceeded(text.length)) {
      this.#shedForTotal();
      return false;
    }
    transport.send(text);
    host.counters.framesOut++;
    if (this.#recount() > 0 && host.outbound.exceeded(0)) {
      // This write is what backed it up past the total.
      this.#shedForTotal();
      return false;
    }
    return true;
  }

  /**
   * Shed for the total budget: 1013, then the socket dropped at once (a
   * client that does not read would not answer the close, and dropping it
   * frees its buffer now); its share leaves the total with it.
   */
  #shedForTotal(): void {
    const reason = disconnectReasonFor(CloseCode.TryAgainLater);
    this.#end(reason, CloseCode.TryAgainLater, reason, true);
    this.#host.outbound.total -= this.#counted;
    this.#counted = 0;
  }

  /** Moves the host's outbound total by the change in this transport's buffer; returns the buffer. O(1). */
  #recount(): number {
    const buffered = this.#transport.bufferedAmount;
    this.#host.outbound.total += buffered - this.#counted;
    this.#counted = buffered;
    return buffered;
  }

  /** Both inbound budgets (frames, bytes), refilled for the `elapsedMs` since the previous data frame. */
  #withinBudgets(elapsedMs: number, length: number): boolean {
    const { rateLimit, byteRateLimit } = this.#host.options;
    let ok = true;
    if (rateLimit !== undefined) {
      this.#tokens = drawTokens(this.#tokens, elapsedMs, rateLimit, 1);
      ok = this.#tokens >= 0;
    }
    if (byteRateLimit !== undefined) {
      this.#byteTokens = drawTokens(this.#byteTokens, elapsedMs, byteRateLimit, length);
      ok &&= this.#byteTokens >= 0;
    }
    return ok;
  }

  /** The 2X timeout (`heartbeat-timeout.ts`) found `timeoutMs` of silence (it has already dequeued us). */
  deadlinePassed(): void {
    // Best effort: a client still reading gets 4000; a dead one costs no handshake wait.
    this.#end(DisconnectReason.Timeout, CloseCode.HeartbeatTimeout, DisconnectReason.Timeout, true);
  }

  /** Closes with `code`, reported with the reason the shared close-code table gives it. */
  #closeWith(code: CloseCode): void {
    const reason = disconnectReasonFor(code);
    this.#end(reason, code, reason, false);
  }

  /**
   * The one way a connection ends: decide it once, stop the silence watch,
   * tell the transport (a close frame with `code` and `closeReason`, then a
   * hard drop if `terminate`; nothing when `closeReason` is undefined, as the
   * transport is already closing or gone), and report it.
   */
  #end(
    reason: DisconnectReason,
    code: number | undefined,
    closeReason: string | undefined,
    terminate: boolean,
  ): void {
    if (this.#ended) return;
    this.#ended = true;
    const host = this.#host;
    host.unwatch(this);
    const session = this.#session;
    this.#unbind();
    if (closeReason !== undefined) {
      this.#transport.close(code!, closeReason);
      if (terminate) this.#transport.terminate();
    }
    host.connectionEnded(this, reason, code, session);
  }
}

import {
  CloseCode,
  DisconnectReason,
  decodeClientFrame,
  ErrorCode,
  encodeServerMessage,
  validateData,
} from "@heartline/protocol";
import type { Deadlined } from "./deadline-queue.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import type { Connection } from "./events.js";
import type { ServerCoreImpl } from "./server-core.js";
import type { ServerTransport, TransportSink } from "./transport.js";

/**
 * One client connection: the state machine between a transport and the
 * core. A class (not closures) so that tens of thousands of them share one
 * shape and cost a few fields each. Per inbound frame the work is O(1) and
 * allocates nothing beyond what decoding needs: no timer is touched (the
 * frame's time is recorded in `lastHeardAt`, which the core's one deadline
 * queue checks when the earliest deadline comes) and no Date is made.
 */
export class ServerConnection<TClient = unknown, TServer = unknown, TAuth = unknown>
  implements Connection<TServer, TAuth>, TransportSink, Deadlined
{
  readonly sessionId: string;
  readonly remoteAddress: string | undefined;
  readonly auth: TAuth;
  readonly connectedAt: number;
  readonly #core: ServerCoreImpl<TClient, TServer, TAuth>;
  readonly #transport: ServerTransport;
  /**
   * When the last data frame arrived (or the connection opened), in clock
   * time. Also when the rate limiter's bucket was last refilled: it refills
   * on every data frame, so one field serves both.
   */
  lastHeardAt: number;
  /** The slot in the core's deadline queue (-1 when not queued); the queue's to write. */
  queueSlot = -1;
  /** The end was decided and reported: the single guard behind "exactly one disconnect". */
  #ended = false;
  /** The transport reported the socket gone (or was destroyed at the shutdown deadline). */
  #gone = false;
  /** Token bucket for the rate limit, refilled lazily from the clock on each frame. */
  #tokens: number;

  constructor(
    core: ServerCoreImpl<TClient, TServer, TAuth>,
    transport: ServerTransport,
    sessionId: string,
    remoteAddress: string | undefined,
    auth: TAuth,
  ) {
    const options = core.options;
    this.#core = core;
    this.#transport = transport;
    this.sessionId = sessionId;
    this.remoteAddress = remoteAddress;
    this.auth = auth;
    this.connectedAt = options.clock.now();
    this.lastHeardAt = this.connectedAt;
    this.#tokens = options.rateLimit?.burst ?? 0;
  }

  get lastSeenAt(): number {
    return this.lastHeardAt;
  }

  get isOpen(): boolean {
    return !this.#ended;
  }

  /** Sends `welcome` (always the first frame) and starts the silence watch. */
  start(welcome: string): void {
    this.#transport.send(welcome);
    this.#core.framesOut++;
    // Silence counts from `connectedAt`, the start of `lastHeardAt`.
    this.#core.deadlines.add(this);
  }

  // ---- the adapter's side (TransportSink) ----

  receive(text: string): void {
    if (this.#ended) return;
    const core = this.#core;
    core.framesIn++;
    // Every data frame counts as a sign of life, valid or not.
    const now = core.options.clock.now();
    const previous = this.lastHeardAt;
    this.lastHeardAt = now;
    if (core.options.rateLimit !== undefined && !this.#takeToken(now - previous)) {
      this.#closeWith(CloseCode.RateLimited, DisconnectReason.RateLimited);
      return;
    }
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) {
      this.#closeWith(CloseCode.BadMessage, DisconnectReason.ProtocolError);
      return;
    }
    const message = decoded.message;
    if (message.type === "ping") {
      this.#write(encodeServerMessage({ type: "pong", seq: message.seq }));
      return;
    }
    const valid = validateData(core.clientSchema, message.data);
    if (!valid.ok) {
      this.#write(
        encodeServerMessage({
          type: "error",
          code: ErrorCode.InvalidPayload,
          message: valid.message,
        }),
      );
      return;
    }
    core.messagesIn++;
    core.emitMessage(this, valid.value);
  }

  receiveBinary(): void {
    if (this.#ended) return;
    this.#core.framesIn++;
    this.#closeWith(CloseCode.UnsupportedData, DisconnectReason.ProtocolError);
  }

  refused(code: number, _message: string): void {
    if (this.#ended) return;
    // The transport is already closing with `code`; only the report is ours.
    this.#end(DisconnectReason.ProtocolError, code);
  }

  errored(error: unknown): void {
    this.#core.reportError(
      new HeartlineError(ServerErrorCode.TransportError, "transport error", { cause: error }),
      this,
    );
  }

  closed(code: number, hadCloseFrame: boolean): void {
    if (this.#gone) return;
    this.#gone = true;
    if (!this.#ended) {
      if (hadCloseFrame) this.#end(DisconnectReason.ClientClosed, code);
      else this.#end(DisconnectReason.ConnectionLost, undefined);
    }
    this.#core.connectionGone(this);
  }

  // ---- the application's side (Connection) ----

  send(data: TServer): boolean {
    const core = this.#core;
    const valid = validateData(core.serverSchema, data);
    if (!valid.ok) {
      throw new HeartlineError(ServerErrorCode.InvalidPayload, `invalid payload: ${valid.message}`);
    }
    if (this.#ended) return false;
    if (!this.#write(encodeServerMessage({ type: "message", data }))) return false;
    core.messagesOut++;
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
    if (Buffer.byteLength(reason) > 123) {
      throw new HeartlineError(ServerErrorCode.InvalidCloseCode, "close reason is over 123 bytes");
    }
    if (this.#ended) return;
    this.#ended = true;
    this.#core.deadlines.remove(this);
    this.#transport.close(code, reason);
    this.#core.connectionEnded(this, DisconnectReason.ServerClosed, code);
  }

  // ---- the core's side ----

  /** Sends an already-encoded frame when open; false if ended or shed as a slow consumer. */
  writeIfOpen(text: string): boolean {
    return !this.#ended && this.#write(text);
  }

  /** Shutdown: `goodbye`, then 1001. */
  goAway(goodbye: string): void {
    if (this.#ended) return;
    // Not through the buffer bound: the client is told to leave either way.
    this.#transport.send(goodbye);
    this.#core.framesOut++;
    this.#closeWith(CloseCode.GoingAway, DisconnectReason.ServerClosed);
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

  #write(text: string): boolean {
    const transport = this.#transport;
    const core = this.#core;
    if (transport.bufferedAmount + text.length > core.options.maxBufferedBytes) {
      // A slow consumer: shed it rather than queue without bound.
      this.#closeWith(CloseCode.TryAgainLater, DisconnectReason.ServerClosed);
      return false;
    }
    transport.send(text);
    core.framesOut++;
    return true;
  }

  /** Refills the bucket for the `elapsedMs` since the previous data frame, then takes a token. */
  #takeToken(elapsedMs: number): boolean {
    const limit = this.#core.options.rateLimit!;
    let tokens = this.#tokens + (elapsedMs * limit.perSecond) / 1000;
    if (tokens > limit.burst) tokens = limit.burst;
    if (tokens < 1) {
      this.#tokens = tokens;
      return false;
    }
    this.#tokens = tokens - 1;
    return true;
  }

  /** The deadline queue found `timeoutMs` of silence (it has already dequeued us). */
  deadlinePassed(): void {
    if (this.#ended) return;
    this.#ended = true;
    // A no-op from the queue; keeps the queue clean should anything else call this.
    this.#core.deadlines.remove(this);
    const transport = this.#transport;
    // Best effort: a client still reading gets 4000; a dead one costs no handshake wait.
    transport.close(CloseCode.HeartbeatTimeout, DisconnectReason.Timeout);
    transport.terminate();
    this.#core.connectionEnded(this, DisconnectReason.Timeout, CloseCode.HeartbeatTimeout);
  }

  #closeWith(code: CloseCode, reason: DisconnectReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#core.deadlines.remove(this);
    this.#transport.close(code, reason);
    this.#core.connectionEnded(this, reason, code);
  }

  #end(reason: DisconnectReason, code: number | undefined): void {
    this.#ended = true;
    this.#core.deadlines.remove(this);
    this.#core.connectionEnded(this, reason, code);
  }
}

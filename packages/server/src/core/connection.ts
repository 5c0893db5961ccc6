import {
  CloseCode,
  DisconnectReason,
  decodeClientFrame,
  ErrorCode,
  encodeServerMessage,
  SilenceTimer,
  validateData,
} from "@heartline/protocol";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import type { Connection } from "./events.js";
import type { ServerCoreImpl } from "./server-core.js";
import type { ServerTransport, TransportSink } from "./transport.js";

/**
 * One client connection: the state machine between a transport and the
 * core. A class (not closures) so that tens of thousands of them share one
 * shape and cost a few fields each. Per inbound frame the work is O(1) and
 * allocates nothing beyond what decoding needs: no timer is touched (the
 * silence timer only records the time) and no Date is made.
 */
export class ServerConnection<TClient = unknown, TServer = unknown, TAuth = unknown>
  implements Connection<TServer, TAuth>, TransportSink
{
  readonly sessionId: string;
  readonly remoteAddress: string | undefined;
  readonly auth: TAuth;
  readonly connectedAt: number;
  readonly #core: ServerCoreImpl<TClient, TServer, TAuth>;
  readonly #transport: ServerTransport;
  readonly #silence: SilenceTimer;
  /** The end was decided and reported: the single guard behind "exactly one disconnect". */
  #ended = false;
  /** The transport reported the socket gone (or was destroyed at the shutdown deadline). */
  #gone = false;
  /** Token bucket for the rate limit, refilled lazily from the clock on each frame. */
  #tokens: number;
  #refilledAt: number;

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
    this.#tokens = options.rateLimit?.burst ?? 0;
    this.#refilledAt = this.connectedAt;
    this.#silence = new SilenceTimer(options.clock, options.timeoutMs, () => this.#onSilence());
  }

  get lastSeenAt(): number {
    return Math.max(this.#silence.lastHeardAt, this.connectedAt);
  }

  get isOpen(): boolean {
    return !this.#ended;
  }

  /** Sends `welcome` (always the first frame) and starts the silence watch. */
  start(welcome: string): void {
    this.#transport.send(welcome);
    this.#core.framesOut++;
    this.#silence.start();
  }

  // ---- the adapter's side (TransportSink) ----

  receive(text: string): void {
    if (this.#ended) return;
    const core = this.#core;
    core.framesIn++;
    // Every data frame counts as a sign of life, valid or not.
    this.#silence.touch();
    if (core.options.rateLimit !== undefined && !this.#takeToken()) {
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
    this.#silence.stop();
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

  #takeToken(): boolean {
    const limit = this.#core.options.rateLimit!;
    const now = this.#core.options.clock.now();
    let tokens = this.#tokens + ((now - this.#refilledAt) * limit.perSecond) / 1000;
    if (tokens > limit.burst) tokens = limit.burst;
    this.#refilledAt = now;
    if (tokens < 1) {
      this.#tokens = tokens;
      return false;
    }
    this.#tokens = tokens - 1;
    return true;
  }

  #onSilence(): void {
    if (this.#ended) return;
    this.#ended = true;
    const transport = this.#transport;
    // Best effort: a client still reading gets 4000; a dead one costs no handshake wait.
    transport.close(CloseCode.HeartbeatTimeout, DisconnectReason.Timeout);
    transport.terminate();
    this.#core.connectionEnded(this, DisconnectReason.Timeout, CloseCode.HeartbeatTimeout);
  }

  #closeWith(code: CloseCode, reason: DisconnectReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#silence.stop();
    this.#transport.close(code, reason);
    this.#core.connectionEnded(this, reason, code);
  }

  #end(reason: DisconnectReason, code: number | undefined): void {
    this.#ended = true;
    this.#silence.stop();
    this.#core.connectionEnded(this, reason, code);
  }
}

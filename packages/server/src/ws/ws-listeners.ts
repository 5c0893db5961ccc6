import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import type { TransportSink } from "../core/transport.js";

/**
 * The `ws` WebSocket is itself a valid `ServerTransport` (send, close,
 * terminate, bufferedAmount, ping), so the adapter allocates no wrapper. Its
 * core sink rides on the socket under a symbol, and the listeners below are
 * shared by every connection: no closures per connection.
 */
const kSink = Symbol("heartline.sink");

/** Pongs written and not yet flushed, for the connections that ever sent a control ping. */
const kPendingPongs = Symbol("heartline.pendingPongs");
const kPongFlushed = Symbol("heartline.pongFlushed");

type Tagged = WebSocket & {
  [kSink]: TransportSink;
  [kPendingPongs]?: number;
  [kPongFlushed]?: () => void;
};

/**
 * Control pings answered at once and not yet flushed: past it the peer is
 * flooding pings faster than it reads pongs. `ws` would cut the socket without
 * a close frame (its `maxPendingAutoPongs`, also 60); we answer them ourselves
 * so the end is a close frame with 1008 and a `protocol_error` report.
 */
export const MAX_PENDING_PONGS = 60;
/** WebSocket "policy violation". */
const POLICY_VIOLATION = 1008;

/** Closed without a close frame, as `ws` reports it. */
const ABNORMAL = 1006;
/** The RFC 6455 code `ws` closes with on a framing violation (unmasked frame, bad opcode…). */
const WS_PROTOCOL_ERROR = 1002;

/** `ws` receiver error codes → the close code `ws` already sent for them. */
const refusedCodes: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  // Too many fragments in one message, or too many buffered parts: `ws` closes 1008.
  WS_ERR_TOO_MANY_BUFFERED_PARTS: POLICY_VIOLATION,
};

function onMessage(this: Tagged, data: RawData, isBinary: boolean): void {
  if (isBinary) this[kSink].receiveBinary();
  else this[kSink].receive((data as Buffer).toString());
}

function onError(this: Tagged, error: Error & { code?: string }): void {
  const code = error.code;
  if (code?.startsWith("WS_ERR_")) {
    this[kSink].refused(refusedCodes[code] ?? WS_PROTOCOL_ERROR, error.message);
  } else this[kSink].errored(error);
}

function onPing(this: Tagged, data: Buffer): void {
  if (this.readyState !== this.OPEN) return;
  const pending = this[kPendingPongs] ?? 0;
  if (pending >= MAX_PENDING_PONGS) {
    this[kSink].refused(POLICY_VIOLATION, "too many pings");
    // The close frame goes out first; a flooding peer is not waited on for its answer.
    this.close(POLICY_VIOLATION, "too many pings");
    this.terminate();
    return;
  }
  this[kPendingPongs] = pending + 1;
  // One callback per connection that pings at all (browsers never do), made on its first ping.
  this[kPongFlushed] ??= pongFlushed(this);
  this.pong(data, false, this[kPongFlushed]);
}

function pongFlushed(ws: Tagged): () => void {
  return () => {
    ws[kPendingPongs] = (ws[kPendingPongs] ?? 1) - 1;
  };
}

function onClose(this: Tagged, code: number): void {
  this[kSink].closed(code, code !== ABNORMAL);
}

function onDrain(this: Duplex & { [kSink]: TransportSink }): void {
  this[kSink].drained();
}

/** Wires a `ws` WebSocket's events (and its socket's `drain`) into its core sink. */
export function attachSink(ws: WebSocket, sink: TransportSink, socket: Duplex): void {
  (ws as Tagged)[kSink] = sink;
  (socket as Duplex & { [kSink]: TransportSink })[kSink] = sink;
  socket.on("drain", onDrain);
  // `this` is the socket itself, which carries the sink (typed here as Tagged).
  ws.on("message", onMessage as (this: WebSocket, data: RawData, isBinary: boolean) => void);
  ws.on("error", onError as (this: WebSocket, error: Error) => void);
  ws.on("close", onClose as (this: WebSocket, code: number) => void);
  ws.on("ping", onPing as (this: WebSocket, data: Buffer) => void);
}

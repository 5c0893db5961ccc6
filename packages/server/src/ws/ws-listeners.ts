import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import type { TransportSink } from "../core/transport.js";
import { answerControlPing } from "./control-pings.js";

/**
 * The `ws` WebSocket is itself a valid `ServerTransport` (send, close,
 * terminate, bufferedAmount, ping), so the adapter allocates no wrapper. Its
 * core sink rides on the socket under a symbol, and the listeners below are
 * shared by every connection: no closures per connection.
 */
const kSink = Symbol("heartline.sink");

type Tagged = WebSocket & { [kSink]: TransportSink };

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
  answerControlPing(this, data, this[kSink]);
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

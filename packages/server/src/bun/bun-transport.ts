// One Bun connection as the core sees it, and the `websocket` handlers that
// feed it. The handlers are shared by every connection (no closure per
// connection): each finds its transport on `ws.data`.
import type { ConnectionInfo, ServerTransport, TransportSink } from "../core/transport.js";
import type { BunServerWebSocket, BunWebSocketHandler } from "./bun-types.js";

/** Closed without a close frame, as Bun reports it. */
const ABNORMAL = 1006;

/**
 * Bun refuses a too-big or invalid-UTF-8 message itself: it sends the peer
 * 1009 or 1007, then reports the close as 1006 with one of these reasons.
 * Matching the reason text is the only way to tell them from a lost socket.
 */
const refusedReasons: Readonly<Record<string, number>> = {
  "Received too big message": 1009,
  "Received invalid UTF-8": 1007,
};

/** What `upgrade` puts on `ws.data` for `open`; the transport replaces the request once accepted. */
export interface BunConnectionData {
  info: ConnectionInfo<unknown> | undefined;
  transport: BunTransport | undefined;
}

export class BunTransport implements ServerTransport {
  sink: TransportSink | undefined;
  /** The core closed or dropped it: Bun reports that close synchronously, inside `close()`. */
  #closing = false;

  constructor(readonly ws: BunServerWebSocket<BunConnectionData>) {}

  send(text: string): void {
    // -1 (queued) is what back-pressure looks like: the core reads `bufferedAmount` and sheds with 1013.
    this.ws.send(text);
  }

  close(code: number, reason: string): void {
    this.#closing = true;
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.#closing = true;
    this.ws.terminate();
  }

  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  ping(): void {
    this.ws.ping();
  }

  /** Bun's `close` handler for this socket. */
  closed(code: number, reason: string): void {
    const sink = this.sink;
    if (sink === undefined) return;
    if (this.#closing) {
      // Inside the core's own `close()`: report the socket gone once that call has returned.
      queueMicrotask(() => sink.closed(code, code !== ABNORMAL));
      return;
    }
    const refused = code === ABNORMAL ? refusedReasons[reason] : undefined;
    if (refused !== undefined) sink.refused(refused, reason);
    sink.closed(code, code !== ABNORMAL);
  }
}

/** The `websocket` option of `Bun.serve`: give it `accept`, which hands the connection to the core. */
export function bunWebSocketHandler(
  maxPayload: number,
  accept: (transport: BunTransport, info: ConnectionInfo<unknown>) => TransportSink,
  abandon?: (info: ConnectionInfo<unknown>) => void,
): BunWebSocketHandler<BunConnectionData> {
  return {
    open(ws) {
      const info = ws.data.info;
      if (info === undefined) return;
      const transport = new BunTransport(ws);
      // The request goes to the `connection` listener only, then is dropped.
      ws.data.info = undefined;
      ws.data.transport = transport;
      transport.sink = accept(transport, info);
    },
    message(ws, message) {
      const sink = ws.data.transport?.sink;
      if (sink === undefined) return;
      if (typeof message === "string") sink.receive(message);
      else sink.receiveBinary();
    },
    close(ws, code, reason) {
      const info = ws.data.info;
      if (info !== undefined) {
        // Upgraded but never opened: the session admission opened goes back.
        ws.data.info = undefined;
        abandon?.(info);
      }
      ws.data.transport?.closed(code, reason);
    },
    drain(ws) {
      ws.data.transport?.sink?.drained();
    },
    maxPayloadLength: maxPayload,
    // Off: the core's heartbeat decides when a silent client is gone (Bun's default closes at 120 s).
    idleTimeout: 0,
    // The core bounds each queue (maxBufferedBytes, 1013); Bun's own limit would drop messages silently.
    backpressureLimit: 2 ** 31 - 1,
    closeOnBackpressureLimit: false,
    // Transport pings only when `keepAliveIntervalMs` asks (the core's sweep calls `ping()`).
    sendPings: false,
    perMessageDeflate: false,
  };
}

// One Deno connection as the core sees it: a standard `WebSocket` from
// `Deno.upgradeWebSocket`. The listeners are shared by every connection (no
// closure per connection): each finds its transport on the socket.
import type { ConnectionInfo, ServerTransport, TransportSink } from "../core/transport.js";

const kTransport = Symbol("heartline.transport");

type Tagged = WebSocket & { [kTransport]: DenoTransport };

/** WebSocket "message too big". */
const MESSAGE_TOO_BIG = 1009;
/** WebSocket "invalid frame payload data" (bad UTF-8). */
const INVALID_PAYLOAD = 1007;
const OPEN = 1;

const utf8 = new TextEncoder();

/** The UTF-8 size of `text` is over `limit` (exact; measured only when the length alone cannot tell). */
function textOver(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  // Each UTF-16 unit is at most 3 bytes of UTF-8.
  if (text.length * 3 <= limit) return false;
  return utf8.encode(text).length > limit;
}

export class DenoTransport implements ServerTransport {
  sink: TransportSink | undefined;

  constructor(
    readonly socket: WebSocket,
    /** Handed to the core on `open`, then dropped (the request is not kept per connection). */
    public info: ConnectionInfo<unknown> | undefined,
    readonly maxPayload: number,
    readonly accept: (transport: DenoTransport, info: ConnectionInfo<unknown>) => TransportSink,
    /** The socket closed before it opened: what admission opened for it goes back. */
    readonly abandon?: (info: ConnectionInfo<unknown>) => void,
  ) {}

  send(text: string): void {
    // Deno throws on a socket no longer open; the core has then ended the connection or is about to hear `close`.
    if (this.socket.readyState === OPEN) this.socket.send(text);
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState <= OPEN) this.socket.close(code, reason);
  }

  /**
   * Deno's WebSocket has no way to drop a socket without the close handshake:
   * after `close()` it waits for the peer's close frame or the TCP end. So
   * this does nothing more; the core has reported the end already, but the
   * socket (and its buffer) stays until the peer answers or the OS gives up.
   */
  terminate(): void {}

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Refuses a message the runtime let through: closes with `code` and reports it, as `ws` does. */
  refuse(code: number, message: string): void {
    this.sink?.refused(code, message);
    this.close(code, message);
  }
}

function onOpen(this: Tagged): void {
  const transport = this[kTransport];
  const info = transport.info;
  if (info === undefined) return;
  transport.info = undefined;
  transport.sink = transport.accept(transport, info);
}

function onMessage(this: Tagged, event: MessageEvent): void {
  const transport = this[kTransport];
  const sink = transport.sink;
  if (sink === undefined) return;
  const data: unknown = event.data;
  if (typeof data === "string") {
    // Deno reads messages of any size (up to its own 64 MiB): `maxPayload` is checked here, after the fact.
    if (textOver(data, transport.maxPayload)) transport.refuse(MESSAGE_TOO_BIG, "message too big");
    else sink.receive(data);
    return;
  }
  const size = (data as { byteLength?: number; size?: number }).byteLength ?? 0;
  if (size > transport.maxPayload) transport.refuse(MESSAGE_TOO_BIG, "message too big");
  else sink.receiveBinary();
}

function onError(this: Tagged, event: Event): void {
  // Deno drops a socket that sent invalid UTF-8 without a close frame; every other
  // error (EOF, broken pipe) is a lost socket, reported by the `close` that follows.
  const message = (event as ErrorEvent).message ?? "";
  if (message.includes("UTF-8")) this[kTransport].sink?.refused(INVALID_PAYLOAD, message);
}

function onClose(this: Tagged, event: CloseEvent): void {
  const transport = this[kTransport];
  const info = transport.info;
  if (info !== undefined) {
    // Closed before `open`: never accepted, so never reported; its session goes back.
    transport.info = undefined;
    transport.abandon?.(info);
  }
  transport.sink?.closed(event.code, event.wasClean);
}

/** Wires a socket from `Deno.upgradeWebSocket` to the core: `accept` runs once it is open. */
export function attachDenoSocket(transport: DenoTransport): void {
  const socket = transport.socket as Tagged;
  socket[kTransport] = transport;
  socket.addEventListener("open", onOpen as unknown as (this: WebSocket, event: Event) => void);
  socket.addEventListener(
    "message",
    onMessage as unknown as (this: WebSocket, event: MessageEvent) => void,
  );
  socket.addEventListener("error", onError as unknown as (this: WebSocket, event: Event) => void);
  socket.addEventListener(
    "close",
    onClose as unknown as (this: WebSocket, event: CloseEvent) => void,
  );
}

/**
 * The part of the WebSocket API the client uses. The browser's `WebSocket`,
 * `ws`'s `WebSocket` and test fakes all fit. Event parameters are `any`
 * because the DOM's and `ws`'s event types differ and the client reads only
 * `event.data` and `event.code`.
 */
export interface WebSocketLike {
  /** `WebSocket.OPEN` (1) once open. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
  /** Starts the close handshake. */
  close(code?: number, reason?: string): void;
  /** Set by the client: the socket opened. */
  // biome-ignore lint/suspicious/noExplicitAny: see above; DOM and ws event types differ.
  onopen: ((event: any) => void) | null;
  /** Set by the client: a frame arrived (`event.data`). */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onmessage: ((event: any) => void) | null;
  /** Set by the client: the socket failed (a close follows). */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onerror: ((event: any) => void) | null;
  /** Set by the client: the socket closed (`event.code`). */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onclose: ((event: any) => void) | null;
}

/** The `WebSocket` option: called as `new WebSocket(url, ["heartline.v1"])`. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/** `WebSocket.OPEN`, the same number in every implementation. */
export const OPEN = 1;

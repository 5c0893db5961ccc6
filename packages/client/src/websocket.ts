/**
 * The part of the WebSocket API the client uses. The browser's `WebSocket`,
 * `ws`'s `WebSocket` and test fakes all fit. Event parameters are `any`
 * because the DOM's and `ws`'s event types differ and the client reads only
 * `event.data` and `event.code`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: see above; DOM and ws event types differ.
  onopen: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onmessage: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onerror: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onclose: ((event: any) => void) | null;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/** `WebSocket.OPEN`, the same number in every implementation. */
export const OPEN = 1;

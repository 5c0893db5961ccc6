import { type ErrorCode, LISTENER_THREW } from "@heartline/protocol";

/** Stable codes of the client's `error` events; branch on these, not on messages. */
export const ClientErrorCode = {
  /** A server frame that is not valid Heartline (bad JSON, not an object, a bad envelope). Ignored. */
  InvalidMessage: "invalid_message",
  /** A server `message` whose `data` fails `protocol.server`. Not delivered. */
  InvalidInbound: "invalid_inbound",
  /** `send(data)` with data that fails `protocol.client` or is not JSON. Not sent. */
  InvalidOutbound: "invalid_outbound",
  /** `send(data)` while the outbox is full. `error.data` holds the refused data. */
  OutboxOverflow: "outbox_overflow",
  /** Queued data dropped because the client closed for good before a welcome. */
  OutboxDiscarded: "outbox_discarded",
  /** `send(data)` while the client is `closed` (before `connect()` or after `close()`). */
  NotConnected: "not_connected",
  /** No `welcome` within `connectTimeoutMs`. */
  ConnectTimeout: "connect_timeout",
  /**
   * An attempt could not open: `url` or `credentials` threw or rejected,
   * the credentials have characters a subprotocol cannot carry, or
   * `new WebSocket` threw. A `disconnect` `open_failed` follows.
   */
  OpenFailed: "open_failed",
  /** The WebSocket reported an error (a close event follows). */
  SocketError: "socket_error",
  /** `createClient` was given an option it cannot use; thrown at once, the message names the option. */
  InvalidOption: "invalid_option",
  /** An application listener threw; the error is in `cause` (see "A listener that throws"). */
  ListenerThrew: LISTENER_THREW,
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * Every `error` event carries one of these. `code` is a `ClientErrorCode`, or
 * the code of a soft `error` frame the server sent (`invalid_payload` in v1:
 * the server refused the `data` of one of our messages and kept the connection).
 */
export class HeartlineClientError extends Error {
  override readonly name = "HeartlineClientError";
  readonly code: ClientErrorCode | ErrorCode | (string & {});
  /** The application data concerned (refused, dropped or invalid), when there is some. */
  readonly data?: unknown;

  constructor(
    code: ClientErrorCode | ErrorCode | (string & {}),
    message: string,
    extra?: { data?: unknown; cause?: unknown },
  ) {
    super(message, extra && "cause" in extra ? { cause: extra.cause } : undefined);
    this.code = code;
    if (extra && "data" in extra) this.data = extra.data;
  }
}

import type { UpgradeRequest } from "./admission-order.js";
import type { ResumeOffer } from "./resume/resume-api.js";

/**
 * What the core needs from one connection's socket. The `ws` adapter wraps a
 * `ws` WebSocket; an in-memory adapter can implement it with two queues.
 */
export interface ServerTransport {
  /** Queues one text frame. */
  send(text: string): void;
  /**
   * Starts a close handshake with `code` and `reason`. The transport bounds
   * the wait for the peer's answer itself and calls `closed()` once the socket
   * is gone.
   */
  close(code: number, reason: string): void;
  /**
   * Drops the socket now, without waiting for a handshake. Called right
   * after `close()` when the peer is presumed dead: a close frame already
   * queued should still be written first if the transport can.
   */
  terminate(): void;
  /** Bytes queued for the peer and not yet handed to the OS. Read on every send: O(1). */
  readonly bufferedAmount: number;
  /** Sends a transport-level ping (WebSocket ping frame); only used when `keepAliveIntervalMs` > 0. */
  ping?(): void;
}

/** What an adapter knows about a connection when it hands it to the core. */
export interface ConnectionInfo<TAuth = unknown> {
  readonly remoteAddress?: string | undefined;
  /** The value `authenticate` resolved to (undefined without the hook). */
  readonly auth: TAuth;
  /** Given to the `connection` listener, then dropped (not kept per connection, to save memory). */
  readonly request?: UpgradeRequest | undefined;
  /**
   * The resume offer from `admit` (`Admission.resume`), passed on as it is.
   * Absent: a plain v1 connection, even with resumption on.
   */
  readonly resume?: ResumeOffer | undefined;
}

/**
 * The adapter's side of one connection: it feeds everything the socket does
 * into these. Calls after the connection ended are ignored, so an adapter
 * need not track state of its own.
 */
export interface TransportSink {
  /** A text frame arrived (already valid UTF-8). */
  receive(text: string): void;
  /** A binary frame arrived: closes 1003, `protocol_error`. */
  receiveBinary(): void;
  /**
   * The transport itself refused an inbound frame (too big: 1009, invalid
   * UTF-8: 1007, a framing violation: 1002) and is closing with `code`:
   * reported once as `protocol_error` with that code.
   */
  refused(code: number, message: string): void;
  /**
   * The socket flushed a backlog (Node's `drain`): the connection re-reads
   * `bufferedAmount` for the outbound total. Optional for an adapter whose
   * buffer never backs up; calling it more often is harmless.
   */
  drained(): void;
  /** A transport error; `closed()` follows. Reported on the `error` event. */
  errored(error: unknown): void;
  /**
   * The socket is gone. `hadCloseFrame` says whether the peer sent a close
   * frame (`code` is then its code); without one the end is `connection_lost`.
   */
  closed(code: number, hadCloseFrame: boolean): void;
}

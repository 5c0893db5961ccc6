import type { WebSocket } from "ws";
import type { TransportSink } from "../core/transport.js";

// Ping handling, the transport's part: RFC 6455 ping frames a peer sends
// (browsers never do; other clients and proxies may). The contract's own
// `ping` message is answered by the core (`core/ping-handling.ts`).

/** Pongs written and not yet flushed, for the connections that ever sent a control ping. */
const kPendingPongs = Symbol("heartline.pendingPongs");
const kPongFlushed = Symbol("heartline.pongFlushed");

type Pinged = WebSocket & { [kPendingPongs]?: number; [kPongFlushed]?: () => void };

/**
 * Control pings answered at once and not yet flushed: past it the peer is
 * flooding pings faster than it reads pongs. `ws` would cut the socket without
 * a close frame (its `maxPendingAutoPongs`, also 60); we answer them ourselves
 * so the end is a close frame with 1008 and a `protocol_error` report.
 */
export const MAX_PENDING_PONGS = 60;
/** WebSocket "policy violation". */
const POLICY_VIOLATION = 1008;

/** Answers a control ping with a pong, or refuses a flood of them (1008). */
export function answerControlPing(socket: WebSocket, data: Buffer, sink: TransportSink): void {
  const ws = socket as Pinged;
  if (ws.readyState !== ws.OPEN) return;
  const pending = ws[kPendingPongs] ?? 0;
  if (pending >= MAX_PENDING_PONGS) {
    sink.refused(POLICY_VIOLATION, "too many pings");
    // The close frame goes out first; a flooding peer is not waited on for its answer.
    ws.close(POLICY_VIOLATION, "too many pings");
    ws.terminate();
    return;
  }
  ws[kPendingPongs] = pending + 1;
  // One callback per connection that pings at all, made on its first ping.
  ws[kPongFlushed] ??= pongFlushed(ws);
  ws.pong(data, false, ws[kPongFlushed]);
}

function pongFlushed(ws: Pinged): () => void {
  return () => {
    ws[kPendingPongs] = (ws[kPendingPongs] ?? 1) - 1;
  };
}

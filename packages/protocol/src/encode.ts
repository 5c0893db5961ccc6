import type { ClientMessage, ServerMessage } from "./schemas.js";

/**
 * JSON text for a message a client sends. It does not validate: the
 * message's type already says it is well formed, and the application's
 * `data` is checked against its schema by the sender before it gets here.
 */
export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

/** JSON text for a message a server sends. */
export function encodeServerMessage(message: ServerMessage): string {
  // pong is the one frame on the server's per-message path; building it by
  // hand gives the same text as JSON.stringify (seq is a safe integer).
  if (message.type === "pong") return `{"type":"pong","seq":${message.seq}}`;
  return JSON.stringify(message);
}

/**
 * A `message` frame, either direction, from its `data` already encoded as
 * JSON text (`dataJson`), with `seq` on a resumable session. The same text as
 * `JSON.stringify({ type, seq, data })`; the data is encoded once by the
 * caller, so a broadcast shares it across every session's seq.
 */
export function encodeMessageFrame(dataJson: string, seq?: number): string {
  return seq === undefined
    ? `{"type":"message","data":${dataJson}}`
    : `{"type":"message","seq":${seq},"data":${dataJson}}`;
}

/** An `ack` frame, either direction: "I have received every message up to `seq`". */
export function encodeAckFrame(seq: number): string {
  return `{"type":"ack","seq":${seq}}`;
}

import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Answers an upgrade with an HTTP status and a short body, then drops the
 * socket; `retryAfterSeconds` adds `Retry-After` (capacity refusals), and
 * `extraHeaders` lines of their own (`Allow` on 405).
 */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  body: string,
  retryAfterSeconds?: number,
  extraHeaders = "",
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${STATUS_CODES[status] ?? "Error"}: ${body}`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Connection: close\r\n" +
      (retryAfterSeconds === undefined ? "" : `Retry-After: ${retryAfterSeconds}\r\n`) +
      extraHeaders +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

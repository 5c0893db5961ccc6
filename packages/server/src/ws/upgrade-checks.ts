import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { SUBPROTOCOL } from "@heartline/protocol";

/** The path part of a request URL (no query). */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * An origin in its serialized form (`scheme://host[:port]`, default port
 * dropped, no trailing slash), lower-cased so comparison is case-insensitive.
 * Values that are not URLs (such as `null`) are only lower-cased.
 */
export function serializeOrigin(origin: string): string {
  const trimmed = origin.trim();
  try {
    const serialized = new URL(trimmed).origin;
    // Opaque origins serialize as "null"; keep what was written then.
    if (serialized !== "null") return serialized.toLowerCase();
  } catch {
    // not a URL: compared as written
  }
  return trimmed.replace(/\/+$/, "").toLowerCase();
}

/** A predicate for the `Origin` check; `undefined` list = every origin passes. */
export function originChecker(
  allowedOrigins: readonly string[] | undefined,
): (origin: string | undefined) => boolean {
  if (allowedOrigins === undefined) return () => true;
  const allowed = new Set(allowedOrigins.map(serializeOrigin));
  // No Origin header: not a browser, and Origin is not authentication.
  return (origin) => origin === undefined || allowed.has(serializeOrigin(origin));
}

/**
 * The subprotocol check: true when the client offered none (a plain
 * `new WebSocket(url)`) or offered `heartline.v1` among others.
 */
export function subprotocolAcceptable(header: string | undefined): boolean {
  if (header === undefined || header.trim() === "") return true;
  for (const offered of header.split(",")) {
    if (offered.trim() === SUBPROTOCOL) return true;
  }
  return false;
}

/** Answers an upgrade with an HTTP status and a short body, then drops the socket. */
export function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${STATUS_CODES[status] ?? "Error"}: ${body}`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

// A raw `ws` client that speaks whatever a test tells it to, for bad input.
import { once } from "node:events";
import { SUBPROTOCOL } from "@heartline/protocol";
import WebSocket from "ws";

export interface RawClient {
  readonly ws: WebSocket;
  readonly sessionId: string;
  /** Every text frame after the welcome, parsed. */
  readonly frames: unknown[];
  /** The close code the client saw (1006 when the socket just ended). */
  readonly closed: Promise<number>;
}

/** Connects, waits (bounded) for the welcome. */
export async function connectRaw(url: string, timeoutMs = 5000): Promise<RawClient> {
  const ws = new WebSocket(url, SUBPROTOCOL);
  ws.on("error", () => {});
  const frames: unknown[] = [];
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  const [data] = (await Promise.race([
    once(ws, "message"),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("no welcome")), timeoutMs).unref(),
    ),
  ])) as [Buffer];
  const welcome = JSON.parse(data.toString()) as { type: string; sessionId: string };
  if (welcome.type !== "welcome") throw new Error(`expected welcome, got ${data.toString()}`);
  ws.on("message", (frame: Buffer, isBinary: boolean) => {
    if (!isBinary) frames.push(JSON.parse(frame.toString()));
  });
  return { ws, sessionId: welcome.sessionId, frames, closed };
}

/** A bounded wait for a promise; `what` names it in the error. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

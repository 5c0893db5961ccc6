// A raw resumable-session client for the multi-process tests: offers
// `heartline.resume` (or `heartline.resume.<token>`), hands back the welcome
// as it came (token, resumed, resumeFailed), or the refused upgrade's status
// and Retry-After; it acks nothing unless told, so the server keeps what it
// sent unacknowledged.
import { SUBPROTOCOL } from "@heartline/protocol";
import WebSocket from "ws";

export interface RawWelcome {
  readonly type: "welcome";
  readonly sessionId: string;
  readonly resume?: { readonly token: string; readonly windowMs: number };
  readonly resumed?: { readonly ack: number };
  readonly resumeFailed?: string;
}

export interface RawSession {
  readonly ws: WebSocket;
  readonly welcome: RawWelcome;
  /** Every frame after the welcome, parsed. */
  readonly frames: Array<{ type: string; seq?: number; data?: unknown }>;
  /** The close code the client saw (1006 when the socket just ended). */
  readonly closed: Promise<number>;
  /** Sends a numbered application message. */
  message(seq: number, data: unknown): void;
  ack(seq: number): void;
  ping(seq: number): void;
  /** Ends the socket without a close frame (the session stays resumable). */
  drop(): void;
  /** Pings every `everyMs` until the socket closes or `silence()`: keeps the connection alive. */
  beat(everyMs: number): void;
  /** Stops the pings (the server's timeout then ends the connection: a half-open link). */
  silence(): void;
}

export type RawOpen =
  | { readonly kind: "open"; readonly session: RawSession }
  | { readonly kind: "refused"; readonly status: number; readonly retryAfter: string | undefined };

/** Connects as `url` says, offering to resume `token` (or a new resumable session); bounded by `timeoutMs`. */
export function openRawSession(url: string, token?: string, timeoutMs = 5000): Promise<RawOpen> {
  const ws = new WebSocket(url, [
    SUBPROTOCOL,
    token === undefined ? "heartline.resume" : `heartline.resume.${token}`,
  ]);
  ws.on("error", () => {});
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  const frames: RawSession["frames"] = [];
  return new Promise<RawOpen>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no welcome from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      const retryAfter = response.headers["retry-after"];
      resolve({
        kind: "refused",
        status: response.statusCode ?? 0,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      });
      response.resume();
      ws.terminate();
    });
    let welcome: RawWelcome | undefined;
    ws.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString());
      if (welcome !== undefined) {
        frames.push(frame);
        return;
      }
      clearTimeout(timer);
      if (frame.type !== "welcome") {
        reject(new Error(`expected welcome, got ${data.toString()}`));
        return;
      }
      welcome = frame as RawWelcome;
      const send = (frame: object): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
      };
      let pinger: NodeJS.Timeout | undefined;
      let pings = 0;
      ws.once("close", () => clearInterval(pinger));
      resolve({
        kind: "open",
        session: {
          ws,
          welcome,
          frames,
          closed,
          message: (seq, data) => send({ type: "message", seq, data }),
          ack: (seq) => send({ type: "ack", seq }),
          ping: (seq) => send({ type: "ping", seq }),
          drop: () => ws.terminate(),
          beat(everyMs) {
            clearInterval(pinger);
            pinger = setInterval(() => send({ type: "ping", seq: pings++ }), everyMs);
          },
          silence: () => clearInterval(pinger),
        },
      });
    });
  });
}

/** `openRawSession` that must open. */
export async function rawSession(url: string, token?: string): Promise<RawSession> {
  const opened = await openRawSession(url, token);
  if (opened.kind !== "open") {
    throw new Error(`upgrade refused: ${opened.status} (Retry-After ${opened.retryAfter})`);
  }
  return opened.session;
}

// The kit's own end of a socket: a raw `ws` connection that records every
// frame and the close with the time each arrived (performance.now()), so a
// case can assert on frames, codes and timing. It speaks no protocol itself.
import { request as httpRequest } from "node:http";
import WebSocket from "ws";
import { Violation } from "./report.js";

/** A frame as received: the parsed JSON (undefined if it was not JSON) and its text. */
export interface Received {
  readonly at: number;
  readonly text: string;
  readonly json: Record<string, unknown> | undefined;
}

/** How a connection ended: the close frame's code, or 1006 when there was none. */
export interface Closed {
  readonly at: number;
  readonly code: number;
  readonly reason: string;
}

/** An upgrade that was answered with an HTTP status instead of 101. */
export class UpgradeRefused extends Error {
  readonly code = "upgrade_refused";
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
  ) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

export interface OpenOptions {
  readonly protocols?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as the `Origin` header. */
  readonly origin?: string;
  /** Default 5000. */
  readonly timeoutMs?: number;
}

export const now = (): number => performance.now();

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** One connection to the server under test. */
export class Probe {
  readonly frames: Received[] = [];
  readonly closed: Promise<Closed>;
  private closedValue: Closed | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      const text = isBinary ? `<binary ${data.length} bytes>` : data.toString("utf8");
      this.frames.push({ at: now(), text, json: isBinary ? undefined : parse(text) });
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code: number, reason: Buffer) => {
        this.closedValue = { at: now(), code, reason: reason.toString("utf8") };
        resolve(this.closedValue);
        this.wake();
      });
    });
    socket.on("error", () => {
      // A close event follows; the case reads the code from it.
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** The subprotocol the server selected ("" when none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  get isClosed(): boolean {
    return this.closedValue !== undefined;
  }

  /** Sends one text frame holding `value` as JSON; resolves once written to the socket. */
  send(value: unknown): Promise<number> {
    return this.sendText(JSON.stringify(value));
  }

  /** Sends raw text (or bytes as a text frame, for invalid UTF-8); resolves with the time it was written. */
  sendText(text: string | Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.socket.send(text, { binary: false }, (error) =>
        error ? reject(error) : resolve(now()),
      );
    });
  }

  sendBinary(bytes: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, { binary: true }, (error) =>
        error ? reject(error) : resolve(now()),
      );
    });
  }

  /** A WebSocket-level ping (a control frame). */
  controlPing(): void {
    this.socket.ping();
  }

  close(code = 1000): void {
    this.socket.close(code);
  }

  /** Ends the TCP connection without a close frame (a link that died). */
  terminate(): void {
    this.socket.terminate();
  }

  /**
   * The first frame from index `from` on that matches; fails after
   * `timeoutMs` or when the connection closes first.
   */
  async next(
    match: (frame: Received) => boolean,
    timeoutMs: number,
    what: string,
    from = 0,
  ): Promise<Received> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.closedValue) {
        throw new Violation(
          `expected ${what}; the connection closed first (${this.closedValue.code}${this.closedValue.reason ? ` ${this.closedValue.reason}` : ""})`,
        );
      }
      const left = deadline - now();
      if (left <= 0) throw new Violation(`expected ${what} within ${timeoutMs} ms; none came`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /** The next frame of this `type` (from index `from`). */
  nextOfType(type: string, timeoutMs: number, from = 0): Promise<Received> {
    return this.next((f) => f.json?.type === type, timeoutMs, `a "${type}" frame`, from);
  }

  /** The close, or a violation after `timeoutMs`. */
  async closedWithin(timeoutMs: number, what: string): Promise<Closed> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Violation(`expected ${what} within ${timeoutMs} ms; still open`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, limit]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Opens a WebSocket to `url`; rejects with `UpgradeRefused` when the server answers a status. */
export function open(url: string, options: OpenOptions = {}): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [...(options.protocols ?? [])], {
      headers: { ...options.headers },
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      handshakeTimeout: options.timeoutMs ?? 5000,
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
    });
    // Frames can arrive in the same tick as `open`: record from the start.
    const probe = new Probe(socket);
    socket.once("open", () => resolve(probe));
    socket.once("unexpected-response", (_req, res) => {
      reject(new UpgradeRefused(res.statusCode ?? 0, res.headers));
      res.resume();
      socket.terminate();
    });
    socket.once("error", (error) => reject(error));
  });
}

/** The status (or the refusal) of an upgrade attempt: 101, or the HTTP status it got. */
export async function upgradeStatus(url: string, options: OpenOptions = {}): Promise<number> {
  try {
    const probe = await open(url, options);
    probe.terminate();
    return 101;
  } catch (error) {
    if (error instanceof UpgradeRefused) return error.status;
    throw error;
  }
}

/** A plain HTTP GET (no upgrade) to the WebSocket URL: its status. */
export function plainGetStatus(
  url: string,
  headers: Readonly<Record<string, string>>,
): Promise<number> {
  const http = new URL(url.replace(/^ws/, "http"));
  return new Promise((resolve, reject) => {
    const req = httpRequest(http, { method: "GET", headers: { ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(5000, () => req.destroy(new Error("no answer in 5000 ms")));
    req.once("error", reject);
    req.end();
  });
}

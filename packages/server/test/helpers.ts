import type { AddressInfo } from "node:net";
import { type Clock, clockOf, decodeServerFrame, type ServerMessage } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";
import { vi } from "vitest";
import { WebSocket } from "ws";
import { until } from "../../testing/src/until.js";
import {
  type Connection,
  createServer,
  type DisconnectInfo,
  type HeartlineError,
  type HeartlineServer,
  type ServerOptions,
  type UpgradeRejection,
} from "../src/index.js";

/** An un-installed fake clock injected as the Heartline clock; socket I/O stays real. */
export function fakeClock(): { fc: FakeTimers.Clock; clock: Clock } {
  const fc = FakeTimers.createClock(1_000_000);
  return { fc, clock: clockOf(fc) };
}

// Waits for I/O (never for a Heartline timeout: those run on the fake clock); its one home is @heartline/testing.
export { until };

/** Lets pending socket I/O run (a few event-loop turns). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface Recorded<TAuth = unknown> {
  connections: Connection<unknown, TAuth>[];
  messages: { conn: Connection<unknown, TAuth>; data: unknown }[];
  disconnects: DisconnectInfo<TAuth>[];
  errors: HeartlineError[];
  rejections: UpgradeRejection[];
}

export function record<TAuth = unknown>(hl: {
  on: HeartlineServer<unknown, unknown, TAuth>["on"];
}): Recorded<TAuth> {
  const r: Recorded<TAuth> = {
    connections: [],
    messages: [],
    disconnects: [],
    errors: [],
    rejections: [],
  };
  hl.on("connection", (conn) => r.connections.push(conn));
  hl.on("message", (conn, data) => r.messages.push({ conn, data }));
  hl.on("disconnect", (info) => r.disconnects.push(info));
  hl.on("error", (error) => r.errors.push(error));
  hl.on("upgradeRejected", (rejection) => r.rejections.push(rejection));
  return r;
}

/** A standalone server on 127.0.0.1, port 0, already listening. */
export async function startServer<TClient = unknown, TServer = unknown, TAuth = undefined>(
  options: Omit<ServerOptions<TClient, TServer, TAuth>, "port" | "host" | "server" | "noServer">,
): Promise<{
  hl: HeartlineServer<TClient, TServer, TAuth>;
  url: string;
  port: number;
  events: Recorded<TAuth>;
}> {
  const hl = createServer<TClient, TServer, TAuth>({ ...options, port: 0, host: "127.0.0.1" });
  const events = record<TAuth>(hl as unknown as HeartlineServer<unknown, unknown, TAuth>);
  await hl.listening;
  const port = (hl.address() as AddressInfo).port;
  return { hl, url: `ws://127.0.0.1:${port}${options.path ?? "/ws"}`, port, events };
}

/** A raw `ws` client that records every server frame and its close. */
export class TestClient {
  readonly frames: ServerMessage[] = [];
  readonly raw: string[] = [];
  closeCode: number | undefined;
  closeReason: string | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "<binary>" : (data as Buffer).toString();
      this.raw.push(text);
      const decoded = decodeServerFrame(text);
      if (decoded.ok) this.frames.push(decoded.message);
    });
    ws.on("ping", () => this.pings++);
    ws.on("error", () => {});
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once("error", reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      ws.once("close", (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static async connect(
    url: string,
    protocols: string | string[] | undefined = "heartline.v1",
    options: ConstructorParameters<typeof WebSocket>[2] = {},
  ): Promise<TestClient> {
    const client = new TestClient(new WebSocket(url, protocols, options));
    await client.opened;
    await until(() => client.frames.length > 0, "welcome");
    return client;
  }

  /** Expects the upgrade to be refused; returns the HTTP status. */
  static async refused(
    url: string,
    protocols?: string | string[],
    options: ConstructorParameters<typeof WebSocket>[2] = {},
  ): Promise<number> {
    const client = new TestClient(new WebSocket(url, protocols, options));
    try {
      await client.opened;
    } catch (error) {
      return (error as { status?: number }).status ?? -1;
    }
    client.ws.terminate();
    throw new Error("upgrade was accepted");
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  ofType<T extends ServerMessage["type"]>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.frames.filter((f) => f.type === type) as Extract<ServerMessage, { type: T }>[];
  }

  get isClosed(): boolean {
    return this.closeCode !== undefined;
  }
}

/**
 * Captures what the server rethrows on a microtask (a throwing listener with
 * no `error` listener to take it) instead of leaving it uncaught. Undo with
 * `vi.restoreAllMocks()`.
 */
export function captureRethrows(): unknown[] {
  const rethrown: unknown[] = [];
  const microtask = globalThis.queueMicrotask;
  vi.spyOn(globalThis, "queueMicrotask").mockImplementation((task) =>
    microtask(() => {
      try {
        task();
      } catch (error) {
        rethrown.push(error);
      }
    }),
  );
  return rethrown;
}

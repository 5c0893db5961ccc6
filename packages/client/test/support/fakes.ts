// A fake WebSocket the test plays the server through, and a Heartline clock
// driven by @sinonjs/fake-timers without installing it globally.

import { type Clock, clockOf } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";
import {
  type ClientEvents,
  type ClientOptions,
  createClient,
  type WebSocketLike,
} from "../../src/index.js";

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  terminated = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
  }

  // The server's side.
  /** Every frame the client sent, parsed. */
  get frames(): Array<{ type: string; seq?: number; data?: unknown }> {
    return this.sent.map((text) => JSON.parse(text));
  }
  get pings(): number[] {
    return this.frames.filter((f) => f.type === "ping").map((f) => f.seq as number);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** Sends a frame to the client: objects as JSON, strings as they are, anything else as binary. */
  receive(frame: unknown): void {
    const binary = frame instanceof ArrayBuffer || ArrayBuffer.isView(frame);
    const data =
      typeof frame === "object" && frame !== null && !binary ? JSON.stringify(frame) : frame;
    this.onmessage?.({ data });
  }
  welcome(heartbeat = { intervalMs: 1000, timeoutMs: 2000 }, sessionId = "s_1"): void {
    this.open();
    this.receive({ type: "welcome", protocol: 1, sessionId, heartbeat });
  }
  /**
   * A `welcome` on a resumable session: `resume` terms with `token`, plus
   * `resumed` or `resumeFailed` when given.
   */
  welcomeResumable(
    token: string,
    extra: { sessionId?: string; resumed?: { ack: number }; resumeFailed?: string } = {},
    heartbeat = { intervalMs: 1000, timeoutMs: 2000 },
  ): void {
    const { sessionId = "s_1", ...rest } = extra;
    this.open();
    this.receive({
      type: "welcome",
      protocol: 1,
      sessionId,
      heartbeat,
      resume: { token, windowMs: 120_000 },
      ...rest,
    });
  }
  /** Every client `message` frame as [seq, data] (seq undefined on a plain v1 session). */
  get messages(): Array<[number | undefined, unknown]> {
    return this.frames.filter((f) => f.type === "message").map((f) => [f.seq, f.data]);
  }
  /** The seq of every `ack` the client sent. */
  get acks(): number[] {
    return this.frames.filter((f) => f.type === "ack").map((f) => f.seq as number);
  }
  pong(seq: number): void {
    this.receive({ type: "pong", seq });
  }
  /** The connection ends from the server's side (1006 when it just drops). */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onerror?.({ type: "error" });
    this.onclose?.({ code });
  }
}

export function fakeClock(start = 0) {
  const fc = FakeTimers.createClock(start);
  const clock: Clock = clockOf(fc);
  return { fc, clock };
}

/** Returns the given values in turn, then repeats the last one. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

type Recorded = { [K in keyof ClientEvents]: Array<ClientEvents[K]> };

/**
 * A client wired to fakes, with every event recorded in order. `sockets`
 * lists each WebSocket the client opened; `socket` is the latest.
 */
export function setup<TC = unknown, TS = unknown>(options: Partial<ClientOptions<TC, TS>> = {}) {
  const { fc, clock } = fakeClock();
  const sockets: FakeSocket[] = [];
  class WebSocket extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const events: Recorded = {
    state: [],
    open: [],
    message: [],
    pong: [],
    error: [],
    disconnect: [],
    reconnecting: [],
    resumed: [],
    undelivered: [],
  };
  const log: string[] = [];
  const client = createClient<TC, TS>({
    url: "ws://test/ws",
    WebSocket,
    clock,
    random: () => 0.5,
    ...options,
  });
  for (const name of Object.keys(events) as Array<keyof ClientEvents>) {
    client.on(name, (payload) => {
      (events[name] as unknown[]).push(payload);
      log.push(name);
    });
  }
  return {
    client,
    fc,
    clock,
    sockets,
    events,
    log,
    get socket(): FakeSocket {
      const last = sockets.at(-1);
      if (!last) throw new Error("no socket opened yet");
      return last;
    },
  };
}

/** A client without reconnects (unless `options` says otherwise), connected and welcomed on `terms`. */
export async function opened<TC = unknown, TS = unknown>(
  terms: { intervalMs: number; timeoutMs: number },
  options: Partial<ClientOptions<TC, TS>> = {},
) {
  const t = setup<TC, TS>({ reconnect: false, ...options });
  t.client.connect();
  await microtask();
  t.socket.welcome(terms);
  return t;
}

/** Lets queued microtasks run: an attempt opens its socket a few microtasks after it starts (url and credentials are awaited). */
export const microtask = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

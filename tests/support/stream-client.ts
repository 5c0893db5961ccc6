// The client side of the multi-process session tests (issue 25): a real
// @heartline/client (Node `ws`) that streams numbered messages `{u, c}` to
// whichever node the test points it at (the URL is asked for on every
// attempt, so after a SIGKILL it resumes on a survivor), while the node's
// application echoes each one back. Everything it sees is kept for
// stream-ledger.ts: what `send` accepted, every echo that arrived, what it
// was told was undelivered, and each connection's open and end.
import { createClient, type HeartlineClient } from "@heartline/client";
import WebSocket from "ws";

/** What the client sends: user and a counter, so every message is unique across the test. */
export interface StreamMessage {
  readonly u: string;
  readonly c: number;
}

/** What the node's application sends back (session-node.ts): the message, who echoed it, and its seq there. */
export interface StreamEcho {
  readonly echo: StreamMessage;
  readonly node: string;
  readonly seq: number | undefined;
}

export interface StreamClientRecord {
  readonly user: string;
  /** Counters `send` accepted, in order. */
  readonly accepted: number[];
  /** Counters `send` refused (never promised). */
  readonly refused: number[];
  /** Every echo, in arrival order (a duplicate shows twice). */
  readonly echoes: StreamEcho[];
  /** Counters the client reported undelivered (its `undelivered` event). */
  readonly reported: number[];
  /** Each `open`: the session, whether it resumed, why a resume failed. */
  readonly opens: Array<{ sessionId: string; resumed: boolean; resumeFailed?: string; at: number }>;
  /** Each connection's end as the client saw it. */
  readonly disconnects: Array<{ reason: string; code?: number; at: number }>;
  /** Client errors by code (outbox_overflow, …). */
  readonly errors: string[];
}

export interface StreamClient extends StreamClientRecord {
  readonly client: HeartlineClient<StreamMessage, StreamEcho>;
  /** The session of the latest open. */
  readonly sessionId: string | undefined;
  /** Sends the next numbered message now; returns send's answer. */
  sendNext(): boolean;
  /** Ends the current socket without a close frame (a lost link): the client reconnects and resumes. */
  cut(): void;
  /** Sends one message every `everyMs` until `stop`. */
  stream(everyMs: number): void;
  stop(): void;
  close(): void;
}

export interface StreamClientOptions {
  readonly user: string;
  /** Called for every connection attempt: the URL of the node to try. */
  readonly url: () => string;
  /** Default 100 ms base, 400 ms cap: quick, bounded retries. */
  readonly reconnect?: { baseMs: number; capMs: number };
  readonly connectTimeoutMs?: number;
}

export function startStreamClient(options: StreamClientOptions): StreamClient {
  const record: StreamClientRecord = {
    user: options.user,
    accepted: [],
    refused: [],
    echoes: [],
    reported: [],
    opens: [],
    disconnects: [],
    errors: [],
  };
  // Every socket the client opens, so that `cut` can end the current one abruptly.
  const sockets: WebSocket[] = [];
  class Recorded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      if (sockets.length > 4) sockets.shift();
    }
  }
  const client = createClient<StreamMessage, StreamEcho>({
    url: options.url,
    WebSocket: Recorded as never,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    reconnect: { ...(options.reconnect ?? { baseMs: 100, capMs: 400 }), stableAfterMs: 100 },
    outbox: { maxUnackedMessages: 1000 },
    on: {
      open: (e) =>
        void record.opens.push({
          sessionId: e.sessionId,
          resumed: e.resumed,
          ...(e.resumeFailed !== undefined && { resumeFailed: e.resumeFailed }),
          at: Date.now(),
        }),
      message: (data) => void record.echoes.push(data),
      undelivered: ({ reason, messages }) => {
        // A refusal by `send` (it returned false) is in `refused` already: never promised.
        if (reason === "overflow" || reason === "invalid" || reason === "not_connected") return;
        for (const m of messages) record.reported.push(m.c);
      },
      disconnect: (e) =>
        void record.disconnects.push({
          reason: e.reason,
          ...(e.code !== undefined && { code: e.code }),
          at: Date.now(),
        }),
      error: (e) => void record.errors.push(e.code),
    },
  });
  let next = 1;
  let timer: NodeJS.Timeout | undefined;
  const sendNext = (): boolean => {
    const c = next++;
    const ok = client.send({ u: options.user, c });
    (ok ? record.accepted : record.refused).push(c);
    return ok;
  };
  client.connect();
  return {
    ...record,
    client,
    get sessionId() {
      return record.opens.at(-1)?.sessionId;
    },
    sendNext,
    cut() {
      sockets.at(-1)?.terminate();
    },
    stream(everyMs) {
      clearInterval(timer);
      timer = setInterval(sendNext, everyMs);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    close() {
      clearInterval(timer);
      client.close();
    },
  };
}

/** Resolves once `check` holds (polled every 20 ms), or fails after `timeoutMs` naming `what`. */
export async function until(
  what: string,
  check: () => boolean,
  timeoutMs = 10_000,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

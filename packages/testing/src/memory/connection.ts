import type { WebSocketLike } from "@heartline/client";
import { type Clock, CloseCode, type TimerHandle } from "@heartline/protocol";
import type { ServerTransport, TransportSink } from "@heartline/server/core";
import type FakeTimers from "@sinonjs/fake-timers";
import type { Gate } from "../clocks.js";
import type { Scheduler } from "../scheduler.js";
import type { LinkedConnection, MemoryLink } from "./link.js";

/** What a socket pair needs from its surroundings. */
export interface ConnectionEnv {
  readonly fc: FakeTimers.Clock;
  /** The ungated clock: the server's side is not on the client's (freezable) page. */
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly link: MemoryLink;
  readonly gate: Gate;
  /** Called when the client's `connect` reaches the server. */
  readonly accept: (
    connection: MemoryConnection,
    url: string,
    protocols: readonly string[],
  ) => void;
  /** How long the server waits for the client's answer to its close frame (`closeTimeoutMs`). */
  readonly closeTimeoutMs: number;
}

/** One WebSocket connection: the client's socket, the server's end, and the link between. */
export class MemoryConnection implements LinkedConnection {
  aborted = false;
  /** Aborts with `abort()`: what admission (and `authenticate`'s signal) follows. */
  readonly #gone = new AbortController();
  server: MemoryServerEnd | undefined;

  constructor(
    readonly env: ConnectionEnv,
    readonly client: MemoryWebSocket,
  ) {
    env.link.connections.add(this);
  }

  /** Aborts when the connection is aborted (the client left). */
  get signal(): AbortSignal {
    return this.#gone.signal;
  }

  /** Both ends learn at once that the stream broke; nothing in flight arrives. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#gone.abort();
    this.env.link.connections.delete(this);
    this.env.scheduler.at(this.env.fc.now, () => {
      this.server?.streamEnded();
      this.env.gate.run(() => this.client.streamEnded());
    });
  }

  toServer(packet: Parameters<MemoryLink["transmit"]>[1], deliver: () => void): void {
    this.env.link.transmit("toServer", packet, this, deliver);
  }

  toClient(packet: Parameters<MemoryLink["transmit"]>[1], deliver: () => void): void {
    this.env.link.transmit("toClient", packet, this, () => this.env.gate.run(deliver));
  }

  /** Both ends are closed: the link forgets it. */
  forget(): void {
    this.env.link.connections.delete(this);
  }
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * The client's side: a WebSocket-compatible object (the part of the API the
 * Heartline client uses, plus `ws`'s `terminate`). Its events reach the
 * client through the page's gate, so a frozen page sees them on resume.
 */
export class MemoryWebSocket implements WebSocketLike {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  readyState: number = CONNECTING;
  protocol = "";
  readonly bufferedAmount = 0;
  readonly url: string;
  // biome-ignore lint/suspicious/noExplicitAny: WebSocketLike's event parameters (DOM and ws differ).
  onopen: ((event: any) => void) | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  onmessage: ((event: any) => void) | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  onerror: ((event: any) => void) | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  onclose: ((event: any) => void) | null = null;
  readonly #connection: MemoryConnection;

  constructor(url: string, protocols: string | string[] | undefined, env: ConnectionEnv) {
    this.url = url;
    const offered =
      protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols];
    const connection = new MemoryConnection(env, this);
    this.#connection = connection;
    if (env.link.offline) {
      // No network: the attempt fails at once, as a browser's does.
      env.scheduler.at(env.fc.now, () => env.gate.run(() => this.refused()));
      return;
    }
    connection.toServer({ kind: "connect", protocols: offered }, () =>
      env.accept(connection, url, offered),
    );
  }

  send(data: string): void {
    if (this.readyState === CONNECTING) {
      throw new DOMException("WebSocket is still connecting", "InvalidStateError");
    }
    if (this.readyState !== OPEN) return; // a browser discards it silently
    const connection = this.#connection;
    connection.toServer({ kind: "text", text: data }, () => connection.server?.receiveText(data));
  }

  close(code?: number, reason?: string): void {
    const connection = this.#connection;
    if (this.readyState === CONNECTING) {
      // Abandons the attempt; if the server accepts it later, the answer is an ended stream.
      this.readyState = CLOSED;
      connection.env.scheduler.at(connection.env.fc.now, () =>
        connection.env.gate.run(() => this.#closed(CloseCode.Abnormal, "", false, true)),
      );
      return;
    }
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    const frame = { kind: "close", code: code ?? 1005, reason: reason ?? "" } as const;
    connection.toServer(frame, () => connection.server?.receiveClose(frame.code));
  }

  /** `ws`'s hard close: the stream ends now, with no handshake. */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    const connection = this.#connection;
    const wasConnecting = this.readyState === CONNECTING;
    this.readyState = CLOSED;
    if (!wasConnecting)
      connection.toServer({ kind: "fin" }, () => connection.server?.streamEnded());
    connection.env.scheduler.at(connection.env.fc.now, () =>
      connection.env.gate.run(() => this.#closed(CloseCode.Abnormal, "", false, false)),
    );
  }

  // ---- the link's side (already through the gate) ----

  opened(protocol: string): void {
    if (this.readyState !== CONNECTING) {
      // Closed while the handshake was on its way: end the stream the server just accepted.
      const connection = this.#connection;
      connection.toServer({ kind: "fin" }, () => connection.server?.streamEnded());
      return;
    }
    this.readyState = OPEN;
    this.protocol = protocol;
    this.onopen?.({ type: "open" });
  }

  refused(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#closed(CloseCode.Abnormal, "", false, true);
  }

  receiveText(text: string): void {
    if (this.readyState === OPEN) this.onmessage?.({ type: "message", data: text });
  }

  receiveClose(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    if (this.readyState === OPEN) {
      // The server started the handshake: answer with its code, as browsers do.
      const connection = this.#connection;
      connection.toServer({ kind: "close", code, reason: "" }, () =>
        connection.server?.receiveClose(code),
      );
    }
    this.readyState = CLOSED;
    this.#closed(code, reason, true, false);
  }

  streamEnded(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#closed(CloseCode.Abnormal, "", false, false);
  }

  #closed(code: number, reason: string, wasClean: boolean, withError: boolean): void {
    if (this.#connection.server === undefined || this.#connection.server.gone) {
      this.#connection.forget();
    }
    if (withError) this.onerror?.({ type: "error" });
    this.onclose?.({ type: "close", code, reason, wasClean });
  }
}

/**
 * The server's side: a `ServerTransport` fed to the real server core, with
 * `ws`'s close behaviour (echo a client's close, wait `closeTimeoutMs` for
 * the answer to ours, `terminate` ends the stream at once).
 */
export class MemoryServerEnd implements ServerTransport {
  readonly bufferedAmount = 0;
  sink: TransportSink | undefined;
  gone = false;
  #sentClose = false;
  #receivedClose: number | undefined;
  #closeTimer: TimerHandle | undefined;

  constructor(readonly connection: MemoryConnection) {}

  send(text: string): void {
    if (this.gone || this.#sentClose) return;
    const client = this.connection.client;
    this.connection.toClient({ kind: "text", text }, () => client.receiveText(text));
  }

  close(code: number, reason: string): void {
    if (this.gone || this.#sentClose) return;
    this.#sentClose = true;
    const client = this.connection.client;
    this.connection.toClient({ kind: "close", code, reason }, () =>
      client.receiveClose(code, reason),
    );
    const env = this.connection.env;
    this.#closeTimer = env.clock.setTimeout(() => {
      this.#closeTimer = undefined;
      this.terminate();
    }, env.closeTimeoutMs);
  }

  terminate(): void {
    if (this.gone) return;
    this.#gone();
    const client = this.connection.client;
    this.connection.toClient({ kind: "fin" }, () => client.streamEnded());
    // ws reports the close from the socket's event, never from inside terminate().
    const env = this.connection.env;
    env.scheduler.at(env.fc.now, () => this.#reportClosed());
  }

  // ---- the link's side ----

  receiveText(text: string): void {
    if (!this.gone) this.sink?.receive(text);
  }

  receiveClose(code: number): void {
    if (this.gone) return;
    this.#receivedClose = code;
    const client = this.connection.client;
    if (!this.#sentClose) {
      this.#sentClose = true;
      this.connection.toClient({ kind: "close", code, reason: "" }, () =>
        client.receiveClose(code, ""),
      );
    }
    this.#gone();
    this.connection.toClient({ kind: "fin" }, () => client.streamEnded());
    this.#reportClosed();
  }

  streamEnded(): void {
    if (this.gone) return;
    this.#gone();
    this.#reportClosed();
  }

  #gone(): void {
    this.gone = true;
    if (this.#closeTimer !== undefined) this.connection.env.clock.clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    if (this.connection.client.readyState === CLOSED) this.connection.forget();
  }

  #reportClosed(): void {
    const code = this.#receivedClose;
    this.sink?.closed(code ?? CloseCode.Abnormal, code !== undefined);
  }
}

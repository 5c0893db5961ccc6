// The seam between the harness and a transport (in-memory or loopback).
// Internal: users see only `Harness` and `HarnessClient`.
import type { WebSocketConstructor } from "@heartline/client";
import type { Connection, ServerEventName, ServerListeners, ServerStats } from "@heartline/server";
import type { WhileBlackholed } from "./blackhole.js";
import type { Gate } from "./clocks.js";
import type { Direction, TimelineRecorder } from "./timeline.js";

/** A frame as a `drop`/`delay` predicate sees it. */
export interface FrameInfo {
  /** The frame's `type` (`ping`, `pong`, `message`…), if it is JSON with one. */
  readonly type: string | undefined;
  readonly text: string;
  /** The parsed JSON, or undefined if it is not JSON. */
  readonly message: unknown;
}
/** Selects frames for `drop` and `delay`. */
export type FramePredicate = (frame: FrameInfo) => boolean;

/** How a blackhole behaves. */
export interface BlackholeOptions {
  /**
   * `"hold"` (default): what is sent meanwhile is kept and arrives, in
   * order, on `heal()`, as TCP's retransmission would deliver it.
   * `"discard"`: it is lost for good, control events too (a dead NAT entry):
   * a socket closed during the blackhole never tells the other end, so the
   * server may still hold a connection the client has long given up on.
   */
  whileBlackholed?: WhileBlackholed;
}

/** Faults on one client's link. Each applies to the current socket and to every later one. */
export interface LinkControls {
  /**
   * Half-open: nothing arrives either way and nothing closes. What is sent
   * meanwhile is held and arrives, in order, on `heal()` (as TCP's
   * retransmission would deliver it), or with `whileBlackholed: "discard"`
   * is lost for good; new connection attempts hang.
   */
  blackhole(options?: BlackholeOptions): void;
  /** Ends a blackhole. */
  heal(): void;
  /** Sets the one-way latency (ms, an integer ≥ 0) of one direction, or of both when omitted. */
  latency(ms: number, direction?: Direction): void;
  /** Loses data frames going `direction` (those `predicate` accepts; all by default). Returns the function that stops it. */
  drop(direction: Direction, predicate?: FramePredicate): () => void;
  /**
   * Holds data frames going `direction` (those `predicate` accepts; all by
   * default) `ms` longer. Later frames queue behind them, as on one TCP
   * stream. Returns the function that stops it.
   */
  delay(direction: Direction, ms: number, predicate?: FramePredicate): () => void;
  /** Ends the current connection abruptly, with no close frame: the server sees `connection_lost`, the client 1006. */
  abort(): void;
}

export interface LinkDriver extends LinkControls {
  /** What the client is given as its `WebSocket` option. */
  readonly WebSocket: WebSocketConstructor;
  readonly url: string;
  /** The network is down (`offline`): like a blackhole, and new connections fail at once. */
  setOffline(offline: boolean): void;
  dispose(): Promise<void>;
}

export interface LinkContext {
  readonly name: string;
  readonly gate: Gate;
  readonly timeline: TimelineRecorder;
  /** In memory, without an `authenticate` hook: what the server's connection gets as `auth`. */
  readonly auth: unknown;
  /** The `Origin` header the client's upgrade carries (none when undefined, as from a non-browser). */
  readonly origin: string | undefined;
  /** The path (and query) the client connects to; undefined: the server's `path`. */
  readonly path: string | undefined;
}

/** What the harness shows of the server: the same on both transports. */
export interface HarnessServer<TServer = unknown, TAuth = unknown, TClient = unknown> {
  /** False once `stopServer()` began. */
  readonly accepting: boolean;
  /**
   * Sends `data` to every open connection and, with resumption on, keeps it
   * for every session waiting for its client (those `filter` accepts);
   * returns how many took it (see the server's `broadcast`).
   */
  broadcast(data: TServer, filter?: (conn: Connection<TServer, TAuth>) => boolean): number;
  /** The session's handle (live or waiting for its client), or a plain open connection; see the server's `session`. */
  session(sessionId: string): Connection<TServer, TAuth> | undefined;
  /** The open connections. */
  connections(): IterableIterator<Connection<TServer, TAuth>>;
  /** The server's counters. */
  stats(): ServerStats;
  /** Adds a server listener, typed as the server's own `on`; returns the function that removes it. */
  on<E extends ServerEventName>(
    event: E,
    listener: ServerListeners<TClient, TServer, TAuth>[E],
  ): () => void;
}

export interface TransportDriver {
  /** Starts a server (a new one after `stopServer`). Session ids it hands out are named in `sessionNames`. */
  startServer(): Promise<HarnessServer>;
  /** Begins the server's shutdown (goodbye + 1001); the promise settles when every socket is gone. */
  stopServer(): Promise<void>;
  link(context: LinkContext): Promise<LinkDriver>;
  /** Lets whatever is due now happen (microtasks; for loopback, real I/O until quiet). */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

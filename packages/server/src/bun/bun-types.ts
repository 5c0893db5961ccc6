// The few parts of Bun's API the adapter uses, declared structurally so the
// package needs no `bun-types` (and its declarations compile on Node too).
// Names and shapes follow Bun's `Bun.serve` documentation.

/** Bun's `ServerWebSocket`. */
export interface BunServerWebSocket<T> {
  readonly data: T;
  readonly remoteAddress: string;
  /** -1: queued behind back-pressure; 0: dropped (socket closed); >0: bytes handed to the OS. */
  send(data: string, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  /** Drops the socket without a close handshake. */
  terminate(): void;
  /** Bytes queued in user space and not yet written to the socket. */
  getBufferedAmount(): number;
  ping(data?: string): number;
}

/** The `websocket` handlers and settings of `Bun.serve`. */
export interface BunWebSocketHandler<T> {
  open(ws: BunServerWebSocket<T>): void;
  message(ws: BunServerWebSocket<T>, message: string | Uint8Array): void;
  close(ws: BunServerWebSocket<T>, code: number, reason: string): void;
  drain(ws: BunServerWebSocket<T>): void;
  maxPayloadLength: number;
  idleTimeout: number;
  backpressureLimit: number;
  closeOnBackpressureLimit: boolean;
  sendPings: boolean;
  perMessageDeflate: boolean;
}

/** The `server` argument of `Bun.serve`'s `fetch`, and what `Bun.serve` returns. */
export interface BunServer {
  upgrade(
    request: Request,
    options?: { headers?: Record<string, string>; data?: unknown },
  ): boolean;
  requestIP(request: Request): { address: string } | null;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  readonly port?: number | undefined;
  readonly hostname?: string | undefined;
}

export interface BunServeOptions<T> {
  port: number;
  hostname?: string;
  fetch(request: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  websocket: BunWebSocketHandler<T>;
}

export interface BunGlobal {
  serve<T>(options: BunServeOptions<T>): BunServer;
}

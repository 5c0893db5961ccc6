// The few parts of Deno's API the adapter uses, declared structurally so the
// package needs no Deno declarations (and its own compile on Node too).

/** The second argument of a `Deno.serve` handler. */
export interface DenoServeHandlerInfo {
  /** Readable only while the handler runs (Deno throws "Request closed" after the response). */
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
}

export interface DenoHttpServer {
  readonly addr: { readonly hostname: string; readonly port: number };
  shutdown(): Promise<void>;
}

export interface DenoGlobal {
  serve(
    options: {
      port: number;
      hostname?: string;
      onListen?: (address: { hostname: string; port: number }) => void;
    },
    handler: (request: Request, info: DenoServeHandlerInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string; idleTimeout?: number },
  ): { socket: WebSocket; response: Response };
}

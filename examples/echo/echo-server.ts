// The echo demo's server: one node:http server that serves the page and its
// bundle, with @heartline/server attached to it for /ws. Every application
// message is echoed to its sender; every connect and disconnect is reported
// through `on`, which the command-line entry (server.ts) prints as JSON lines,
// and so is every resumed connection and every ended resumable session.
import { readFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Dashboard } from "@heartline/dashboard";
import type { DisconnectReason, ReconnectWindow } from "@heartline/protocol";
import {
  createHealthHandler,
  createServer,
  forwardedReader,
  type HeartlineServer,
  type TrustProxy,
} from "@heartline/server";
import { createObservability, type Observability } from "./observability.js";
import { pageBundlePath } from "./page-bundle.js";
import { echoDefaults } from "./settings.js";

/** Every stdout line of the demo. */
export type EchoEvent = EchoSessionEvent | EchoRejectedEvent;

/** The lines about connections and sessions (each carries a `sessionId`). */
export type EchoSessionEvent =
  | { event: "connect"; sessionId: string; at: string }
  | {
      event: "disconnect";
      sessionId: string;
      reason: DisconnectReason;
      /** The close code, or null when the socket ended without one (`connection_lost`). */
      code: number | null;
      at: string;
    }
  /** A connection that continued an earlier session (same `sessionId`). */
  | { event: "resume"; sessionId: string; at: string }
  /** A resumable session ended: its window passed, or it ended deliberately, or a buffer overflowed. */
  | {
      event: "session_end";
      sessionId: string;
      reason: string;
      /** How many messages the server still held unacknowledged (their data is in the server's event). */
      undelivered: number;
      at: string;
    };

/**
 * An upgrade refused with an HTTP status (403 cross-site origin, 429 per
 * address, 503 while draining…): what it asked for and who asked, as the
 * server judged them (`host` and `address` through a trusted proxy).
 */
export interface EchoRejectedEvent {
  event: "upgrade_rejected";
  status: number;
  reason: string;
  origin: string | null;
  host: string | null;
  address: string | null;
  at: string;
}

type EchoListener<K extends EchoEvent["event"]> = (event: Extract<EchoEvent, { event: K }>) => void;

export interface EchoServerOptions {
  /** Default 5000; 0 picks a free port (read it from the result). */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** X; the server closes a client silent for 2X. Default `echoDefaults.intervalMs`. */
  intervalMs?: number;
  /** `undefined`: only the page's own origin (the same origin); `"*"`: every origin. */
  allowedOrigins?: readonly string[] | "*" | undefined;
  /** `undefined`: no limit. */
  maxConnections?: number | undefined;
  /** `undefined`: no limit. */
  maxConnectionsPerAddress?: number | undefined;
  /** The `goodbye` window on shutdown; `undefined`: the server's default. */
  reconnectWindow?: ReconnectWindow | undefined;
  /** How long a dropped session stays resumable; 0 turns resumption off. Default `echoDefaults.resumeWindowMs`. */
  resumeWindowMs?: number;
  /** The reverse proxies in front (the server's `trustProxy`). Default `false`. */
  trustProxy?: TrustProxy;
  /** Transport-level pings every N ms (the server's `keepAliveIntervalMs`); 0 off. Default 0. */
  keepAliveIntervalMs?: number;
  /** Turns /metrics and /dashboard/ on, for requests carrying it. Default: both off (404). */
  opsToken?: string | undefined;
  /** How long `close()` keeps clients while refusing new upgrades. Default 0. */
  drainMs?: number;
  /** OpenTelemetry's `service.name`. Default `echoDefaults.serviceName`. */
  serviceName?: string;
  on?: {
    rejected?: EchoListener<"upgrade_rejected">;
    connect?: EchoListener<"connect">;
    disconnect?: EchoListener<"disconnect">;
    resume?: EchoListener<"resume">;
    sessionEnd?: EchoListener<"session_end">;
  };
}

export interface EchoServer {
  /** The page, at the bound address, e.g. `http://127.0.0.1:5000/`. */
  readonly url: string;
  readonly port: number;
  readonly heartline: HeartlineServer;
  /** The operations page at `/dashboard/` (undefined unless `opsToken` is set). */
  readonly dashboard: Dashboard | undefined;
  /**
   * Refuses new upgrades (503) for `drainMs` while clients stay (`/readyz`
   * answers 503), then sends every client `goodbye` and close 1001, then
   * stops listening. Idempotent.
   */
  close(): Promise<void>;
}

/** The only files served: a fixed table, so no request path ever reaches the file system. */
const routes: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: fileURLToPath(new URL("./page/index.html", import.meta.url)), type: "text/html" },
  "/style.css": {
    file: fileURLToPath(new URL("./page/style.css", import.meta.url)),
    type: "text/css",
  },
  "/page.js": { file: pageBundlePath, type: "text/javascript" },
  "/page.js.map": { file: `${pageBundlePath}.map`, type: "application/json" },
};

const securityHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  // The URL field is editable, so the page may connect to any ws:/wss: server.
  "content-security-policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:",
};

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function servePage(
  request: IncomingMessage,
  response: ServerResponse,
  observability: Observability,
  health: Readonly<Record<string, Handler>>,
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  // GET /metrics (Prometheus) and /dashboard/: see observability.ts.
  if (observability.handle(path, request, response)) return;
  // /readyz (503 while draining), /healthz (200 while the process answers).
  const check = health[path];
  if (check !== undefined) {
    check(request, response);
    return;
  }
  if (path === "/ws") {
    // Only WebSocket upgrades belong here; @heartline/server takes those.
    response.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
    response.end("This is the WebSocket endpoint: connect with a WebSocket client.\n");
    return;
  }
  const route = routes[path === "/index.html" ? "/" : path];
  if (route === undefined || (request.method !== "GET" && request.method !== "HEAD")) {
    response.writeHead(route === undefined ? 404 : 405, { "content-type": "text/plain" });
    response.end(route === undefined ? "Not found\n" : "Method not allowed\n");
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(route.file);
  } catch {
    response.writeHead(503, { "content-type": "text/plain" });
    response.end(`${path} is missing: \`pnpm demo\` builds the page bundle before it starts.\n`);
    return;
  }
  response.writeHead(200, {
    "content-type": `${route.type}; charset=utf-8`,
    "content-length": body.length,
    ...securityHeaders,
  });
  response.end(request.method === "HEAD" ? undefined : body);
}

export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const observability = createObservability({
    opsToken: options.opsToken,
    serviceName: options.serviceName,
  });
  const health: Record<string, Handler> = {};
  const http = createHttpServer((request, response) => {
    servePage(request, response, observability, health).catch(() => response.destroy());
  });
  const trustProxy = options.trustProxy ?? false;
  // The same view of a request as the server's own checks (for the refusal line's host).
  const forwarded = forwardedReader(trustProxy);
  const resumeWindowMs = options.resumeWindowMs ?? echoDefaults.resumeWindowMs;
  const heartline = createServer({
    server: http,
    resume: resumeWindowMs === 0 ? false : { windowMs: resumeWindowMs },
    meterProvider: observability.meterProvider,
    intervalMs: options.intervalMs ?? echoDefaults.intervalMs,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? echoDefaults.keepAliveIntervalMs,
    trustProxy,
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.maxConnectionsPerAddress === undefined
      ? {}
      : { maxConnectionsPerAddress: options.maxConnectionsPerAddress }),
    ...(options.reconnectWindow === undefined ? {} : { reconnectWindow: options.reconnectWindow }),
    on: {
      upgradeRejected: (rejection, request) => {
        const origin = request?.headers.origin;
        const host =
          request === undefined
            ? undefined
            : forwarded(request.headers, request.remoteAddress).host;
        options.on?.rejected?.({
          event: "upgrade_rejected",
          status: rejection.status,
          reason: rejection.reason,
          origin: typeof origin === "string" ? origin : null,
          host: host ?? null,
          address: rejection.remoteAddress ?? null,
          at: new Date().toISOString(),
        });
      },
      // A warning (proxy idle timeout, …) or a failure that did not crash the server: on stderr.
      error: (error) =>
        process.stderr.write(`echo demo: heartline ${error.code}: ${error.message}\n`),
      connection: (conn) =>
        options.on?.connect?.({
          event: "connect",
          sessionId: conn.sessionId,
          at: new Date().toISOString(),
        }),
      // The echo itself: every message goes back to the one who sent it.
      // A client may also report its heartbeat RTT as `{ heartlineRttMs: n }`
      // (echoed like any message): the dashboard charts it.
      message: (conn, data) => {
        conn.send(data);
        const rtt = (data as { heartlineRttMs?: unknown } | null)?.heartlineRttMs;
        if (typeof rtt === "number") dashboard?.recordRtt(rtt);
      },
      disconnect: (info) =>
        options.on?.disconnect?.({
          event: "disconnect",
          sessionId: info.sessionId,
          reason: info.reason,
          code: info.code ?? null,
          at: new Date().toISOString(),
        }),
      resume: (info) =>
        options.on?.resume?.({
          event: "resume",
          sessionId: info.sessionId,
          at: new Date().toISOString(),
        }),
      sessionEnd: (info) =>
        options.on?.sessionEnd?.({
          event: "session_end",
          sessionId: info.sessionId,
          reason: info.reason,
          undelivered: info.undelivered.length,
          at: new Date().toISOString(),
        }),
    },
  });

  const dashboard = observability.attach(heartline);
  health["/readyz"] = createHealthHandler({ server: heartline });
  health["/healthz"] = (_request, response) => {
    response.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" });
    response.end("ok\n");
  };

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? echoDefaults.port, options.host ?? echoDefaults.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/`,
    port: address.port,
    heartline,
    dashboard,
    close() {
      closing ??= (async () => {
        await heartline.close({ drainMs: options.drainMs ?? echoDefaults.drainMs });
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          // Idle keep-alive connections from the page would hold close() open.
          http.closeAllConnections();
        });
        await observability.close();
      })();
      return closing;
    },
  };
}

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
import type { Dashboard } from "@heartline/dashboard";
import type { ReconnectWindow } from "@heartline/protocol";
import {
  createHealthHandler,
  createServer,
  type HeartlineServer,
  type TrustProxy,
} from "@heartline/server";
import { type EchoEventListeners, echoListeners } from "./echo-events.js";
import { createObservability, type Observability } from "./observability.js";
import { missingBundleText, routeOf, securityHeaders, WS_ENDPOINT_TEXT } from "./page-routes.js";
import { type RedisSessions, redisSessions } from "./redis-sessions.js";
import { echoDefaults } from "./settings.js";

export type { EchoEvent, EchoRejectedEvent, EchoSessionEvent } from "./echo-events.js";

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
  /**
   * Keep resumable sessions and presence in this Redis (`redis://host:port`),
   * shared with every demo on it: a client resumes on any of them. Default
   * `undefined`: in this process's memory. Ignored with `resumeWindowMs` 0.
   */
  redisUrl?: string | undefined;
  /** This process's id among the demos sharing `redisUrl`. Default: hostname, pid and a random suffix. */
  nodeId?: string | undefined;
  on?: EchoEventListeners;
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
    response.end(WS_ENDPOINT_TEXT);
    return;
  }
  const route = routeOf(path);
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
    response.end(missingBundleText(path));
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
  const resumeWindowMs = options.resumeWindowMs ?? echoDefaults.resumeWindowMs;
  const shared: RedisSessions | undefined =
    options.redisUrl === undefined || resumeWindowMs === 0
      ? undefined
      : redisSessions(options.redisUrl, options.nodeId, resumeWindowMs);
  const heartline = createServer<unknown, unknown, undefined>({
    server: http,
    resume:
      resumeWindowMs === 0
        ? false
        : { windowMs: resumeWindowMs, ...(shared === undefined ? {} : { store: shared.store }) },
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
    // A client may also report its heartbeat RTT as `{ heartlineRttMs: n }`
    // (echoed like any message): the dashboard charts it.
    on: echoListeners(
      options.on,
      (data) => {
        const rtt = (data as { heartlineRttMs?: unknown } | null)?.heartlineRttMs;
        if (typeof rtt === "number") dashboard?.recordRtt(rtt);
      },
      trustProxy,
    ),
  });

  const dashboard = observability.attach(heartline);
  await shared?.attach(heartline);
  await shared?.ready(10_000);
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
        // With Redis, close() hands every session over to the other demos at once.
        await heartline.close({ drainMs: options.drainMs ?? echoDefaults.drainMs });
        await shared?.close();
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

// The echo demo's server on Bun or Deno: the runtime's own HTTP server
// (`Bun.serve`, `Deno.serve`) serves the same page and bundle as on Node, and
// hands upgrades on /ws to @heartline/server/bun or /deno (`noServer`). The
// Node demo's operations side (/metrics, /dashboard/) is built on node:http
// and is not served here.
import { readFile } from "node:fs/promises";
import type { BunServer, BunWebSocketHandler } from "@heartline/server/bun";
import { createServer as createBunServer } from "@heartline/server/bun";
import {
  createServer as createDenoServer,
  type DenoServeHandlerInfo,
} from "@heartline/server/deno";
import type { RunningEcho } from "./demo-main.js";
import { type EchoEventListeners, echoListeners } from "./echo-events.js";
import { missingBundleText, routeOf, securityHeaders, WS_ENDPOINT_TEXT } from "./page-routes.js";
import type { EchoSettings } from "./settings.js";

interface BunRuntime {
  readonly version: string;
  serve(options: {
    port: number;
    hostname: string;
    fetch(
      request: Request,
      server: BunServer,
    ): Response | undefined | Promise<Response | undefined>;
    websocket: BunWebSocketHandler<unknown>;
  }): BunServer & { readonly port: number; stop(closeActive?: boolean): Promise<void> };
}

interface DenoRuntime {
  readonly version: { readonly deno: string };
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request, info: DenoServeHandlerInfo) => Response | Promise<Response>,
  ): { readonly addr: { port: number }; shutdown(): Promise<void> };
}

const runtimeGlobals = globalThis as { Bun?: BunRuntime; Deno?: DenoRuntime };

/** "Bun 1.4.5" or "Deno 2.9.6": the runtime this process runs on. */
export function runtimeName(): string {
  if (runtimeGlobals.Bun !== undefined) return `Bun ${runtimeGlobals.Bun.version}`;
  if (runtimeGlobals.Deno !== undefined) return `Deno ${runtimeGlobals.Deno.version.deno}`;
  throw new Error("echo-fetch-server runs on Bun or Deno; on Node, run server.ts");
}

/** Everything but the WebSocket upgrade: the page, its files, and the same answers as on Node. */
async function servePage(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === "/ws") {
    return new Response(WS_ENDPOINT_TEXT, {
      status: 426,
      headers: { "content-type": "text/plain", upgrade: "websocket" },
    });
  }
  const route = routeOf(path);
  if (route === undefined || (request.method !== "GET" && request.method !== "HEAD")) {
    return new Response(route === undefined ? "Not found\n" : "Method not allowed\n", {
      status: route === undefined ? 404 : 405,
      headers: { "content-type": "text/plain" },
    });
  }
  let body: Uint8Array;
  try {
    body = await readFile(route.file);
  } catch {
    return new Response(missingBundleText(path), {
      status: 503,
      headers: { "content-type": "text/plain" },
    });
  }
  return new Response(request.method === "HEAD" ? null : (body as Uint8Array<ArrayBuffer>), {
    status: 200,
    headers: {
      "content-type": `${route.type}; charset=utf-8`,
      "content-length": String(body.length),
      ...securityHeaders,
    },
  });
}

const isUpgrade = (request: Request): boolean =>
  request.headers.get("upgrade")?.toLowerCase() === "websocket";

/** Starts the demo on this runtime; settings as `settingsFromEnv` gives them. */
export async function startFetchEchoServer(
  settings: EchoSettings & { on: EchoEventListeners },
): Promise<RunningEcho> {
  // The Redis session store is wired on Node only (echo-server.ts); say so rather than share nothing quietly.
  if (settings.redisUrl !== undefined) {
    console.error(
      "echo demo: REDIS_URL is used by the Node demo only; sessions stay in this process's memory here",
    );
  }
  const options = {
    noServer: true,
    resume:
      settings.resumeWindowMs === 0 ? (false as const) : { windowMs: settings.resumeWindowMs },
    intervalMs: settings.intervalMs,
    keepAliveIntervalMs: settings.keepAliveIntervalMs,
    trustProxy: settings.trustProxy,
    ...(settings.allowedOrigins === undefined ? {} : { allowedOrigins: settings.allowedOrigins }),
    ...(settings.maxConnections === undefined ? {} : { maxConnections: settings.maxConnections }),
    ...(settings.maxConnectionsPerAddress === undefined
      ? {}
      : { maxConnectionsPerAddress: settings.maxConnectionsPerAddress }),
    ...(settings.reconnectWindow === undefined
      ? {}
      : { reconnectWindow: settings.reconnectWindow }),
    on: echoListeners(settings.on, undefined, settings.trustProxy),
  };
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;

  const bun = runtimeGlobals.Bun;
  if (bun !== undefined) {
    const heartline = createBunServer<unknown, unknown, undefined>(options);
    const server = bun.serve({
      port: settings.port,
      hostname: settings.host,
      fetch: (request, bunServer) =>
        isUpgrade(request) ? heartline.upgrade(request, bunServer) : servePage(request),
      websocket: heartline.websocket as BunWebSocketHandler<unknown>,
    });
    return {
      url: `http://${host}:${server.port}/`,
      async close() {
        await heartline.close({ drainMs: settings.drainMs });
        await server.stop(true);
      },
    };
  }
  const deno = runtimeGlobals.Deno;
  if (deno === undefined) throw new Error(runtimeName());
  const heartline = createDenoServer<unknown, unknown, undefined>(options);
  let listening!: () => void;
  const listened = new Promise<void>((resolve) => {
    listening = resolve;
  });
  const server = deno.serve(
    { port: settings.port, hostname: settings.host, onListen: () => listening() },
    (request, info) => (isUpgrade(request) ? heartline.upgrade(request, info) : servePage(request)),
  );
  await listened;
  return {
    url: `http://${host}:${server.addr.port}/`,
    async close() {
      await heartline.close({ drainMs: settings.drainMs });
      // Deno's shutdown waits for every socket; one whose client never answered the close would hold it.
      await Promise.race([server.shutdown(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    },
  };
}

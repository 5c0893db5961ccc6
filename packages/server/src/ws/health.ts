// Readiness for load balancers and orchestrators: one request handler that
// fits node:http, Express (`app.get(path, handler)`) and Fastify (through
// `readiness()` and `reply`), reflecting `close()` (a draining server is not
// ready, so the balancer stops routing to it before the goodbye) and the
// state of whatever the server depends on (a Redis presence, a store).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerState } from "../core/server-core.js";

/** `createHealthHandler`'s options. */
export interface HealthOptions {
  /** A Heartline server (`createServer`'s result, or its core): only its `state` is read. */
  readonly server: { readonly state: ServerState };
  /**
   * Dependencies by name, each answering whether it is usable now (e.g.
   * `() => presence.state === "connected"`). A dependency that throws is down.
   */
  readonly dependencies?: Readonly<Record<string, () => boolean>>;
  /** `Retry-After` (seconds) on a 503. Default 5. */
  readonly retryAfterSeconds?: number;
}

/** What the handler answers, as data (for frameworks that send replies themselves). */
export interface HealthReport {
  /** 200 when the server is open and every dependency is up; 503 otherwise. */
  readonly status: 200 | 503;
  readonly body: {
    readonly ready: boolean;
    readonly server: ServerState;
    readonly dependencies: Readonly<Record<string, "up" | "down">>;
  };
}

/** `createHealthHandler`'s defaults: `Retry-After: 5` on a 503 (a balancer's usual poll interval). */
export const healthDefaults = Object.freeze({ retryAfterSeconds: 5 });

/** The readiness of `options.server` and its dependencies, now. */
export function readiness(options: HealthOptions): HealthReport {
  const dependencies: Record<string, "up" | "down"> = {};
  let up = options.server.state === "open";
  for (const [name, check] of Object.entries(options.dependencies ?? {})) {
    let ok = false;
    try {
      ok = check() === true;
    } catch {
      // a check that throws is a dependency that is down
    }
    dependencies[name] = ok ? "up" : "down";
    if (!ok) up = false;
  }
  return {
    status: up ? 200 : 503,
    body: { ready: up, server: options.server.state, dependencies },
  };
}

/**
 * A `(request, response)` handler answering readiness as JSON: 200, or 503
 * with `Retry-After` while the server drains or closes or a dependency is
 * down. GET and HEAD; 405 otherwise. Mount it where your balancer polls:
 * node:http `if (url === "/readyz") return handler(req, res)`; Express
 * `app.get("/readyz", handler)`; Fastify
 * `app.get("/readyz", (req, reply) => { const r = readiness(o); reply.code(r.status).send(r.body); })`.
 */
export function createHealthHandler(
  options: HealthOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const retryAfter = String(options.retryAfterSeconds ?? healthDefaults.retryAfterSeconds);
  return (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      response.end("Method not allowed\n");
      return;
    }
    const report = readiness(options);
    const body = JSON.stringify(report.body);
    response.writeHead(report.status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      "content-length": Buffer.byteLength(body),
      ...(report.status === 503 ? { "retry-after": retryAfter } : {}),
    });
    response.end(request.method === "HEAD" ? undefined : body);
  };
}

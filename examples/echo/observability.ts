// The demo's operations side, on its own HTTP server (no second port):
// - GET /metrics: the OpenTelemetry SDK with a Prometheus reader. The
//   Heartline server is given this provider as its `meterProvider`; an
//   application with one server per process would register it globally
//   (`metrics.setGlobalMeterProvider`) before creating the server instead. The
//   demo passes it explicitly so that several demo servers can run in one
//   process (its tests do).
// - /dashboard/: @heartline/dashboard.
// Both are OFF unless an operations token is set, and then answer only a
// request carrying it. The socket's address proves nothing behind a proxy on
// the same host (every proxied request comes from 127.0.0.1), and a header
// such as X-Forwarded-For is the client's to write: a token is something a
// proxy passes on but cannot make up.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createDashboard, type Dashboard } from "@heartline/dashboard";
import { type HeartlineServer, prometheusViews } from "@heartline/server";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { echoDefaults } from "./settings.js";

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** The credential a request carries: `Authorization: Bearer <t>`, or Basic with `<t>` as the password (any user). */
function presented(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") return value.trim();
  if (scheme?.toLowerCase() === "basic") {
    const decoded = Buffer.from(value.trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/**
 * The demo's operations authorization: the request carries `token` (Bearer,
 * or Basic so a browser can open the dashboard). Compared in constant time.
 */
export function carriesToken(token: string): (request: IncomingMessage) => boolean {
  const expected = digest(token);
  return (request) => {
    const given = presented(request);
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}

export interface ObservabilityOptions {
  /** `undefined`: /metrics and /dashboard/ answer 404 (off). */
  readonly opsToken?: string | undefined;
  /** OpenTelemetry's `service.name`. Default `echoDefaults.serviceName`. */
  readonly serviceName?: string | undefined;
}

export interface Observability {
  readonly meterProvider: MeterProvider;
  /** Creates the dashboard for `server` (once it exists); undefined when off. */
  attach(server: HeartlineServer): Dashboard | undefined;
  /** Answers the requests it owns (`/metrics`, `/dashboard…`); returns false for every other path. */
  handle(path: string, request: IncomingMessage, response: ServerResponse): boolean;
  close(): Promise<void>;
}

function refuse(response: ServerResponse, status: 401 | 404): void {
  response.writeHead(status, {
    "content-type": "text/plain",
    "cache-control": "no-store",
    ...(status === 401 ? { "www-authenticate": 'Basic realm="heartline-ops"' } : {}),
  });
  response.end(status === 401 ? "Unauthorized\n" : "Not found\n");
}

export function createObservability(options: ObservabilityOptions = {}): Observability {
  // `preventServerStart`: the exporter's handler is mounted on the demo's server instead.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({
    readers: [prometheus],
    resource: resourceFromAttributes({
      "service.name": options.serviceName ?? echoDefaults.serviceName,
    }),
    // The OpenTelemetry → Prometheus unit suffixes (`_seconds`, `_bytes`) this exporter leaves out.
    views: [...prometheusViews()],
  });
  const token = options.opsToken;
  const authorized = token === undefined ? () => false : carriesToken(token);
  let dashboard: Dashboard | undefined;
  return {
    meterProvider,
    attach(server) {
      if (token !== undefined) dashboard = createDashboard({ server, authorize: authorized });
      return dashboard;
    },
    handle(path, request, response) {
      const isDashboard = path === "/dashboard" || path.startsWith("/dashboard/");
      if (!isDashboard && path !== "/metrics") return false;
      if (token === undefined) {
        refuse(response, 404);
        return true;
      }
      if (isDashboard) {
        // The dashboard answers 403 itself; a Basic challenge lets a browser ask for the token.
        if (!authorized(request)) refuse(response, 401);
        else dashboard?.handle(request, response);
        return true;
      }
      if (!authorized(request)) refuse(response, 401);
      else if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" });
        response.end("Method not allowed\n");
      } else {
        prometheus.getMetricsRequestHandler(request, response);
      }
      return true;
    },
    close: () => meterProvider.shutdown(),
  };
}

// The demo's operations side, on its own HTTP server (no second port):
// - GET /metrics: the OpenTelemetry SDK with a Prometheus reader. The
//   Heartline server is given this provider as its `meterProvider`; an
//   application with one server per process would register it globally
//   (`metrics.setGlobalMeterProvider`) before creating the server instead. The
//   demo passes it explicitly so that several demo servers can run in one
//   process (its tests do).
// - /dashboard/: @heartline/dashboard, for loopback clients only.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createDashboard, type Dashboard } from "@heartline/dashboard";
import type { HeartlineServer } from "@heartline/server";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

/**
 * The dashboard's authorization in the demo: DEVELOPMENT ONLY. It lets in
 * requests from this machine (127.0.0.0/8, ::1) and nobody else; a real
 * application checks its own session or token here instead.
 */
export function fromLoopback(request: IncomingMessage): boolean {
  const address = request.socket.remoteAddress ?? "";
  return address === "::1" || /^(::ffff:)?127\./.test(address);
}

export interface Observability {
  readonly meterProvider: MeterProvider;
  /** Creates the dashboard for `server` (once it exists). */
  attach(server: HeartlineServer): Dashboard;
  /** Answers the requests it owns (`/metrics`, `/dashboard…`); returns false for every other path. */
  handle(path: string, request: IncomingMessage, response: ServerResponse): boolean;
  close(): Promise<void>;
}

export function createObservability(): Observability {
  // `preventServerStart`: the exporter's handler is mounted on the demo's server instead.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [prometheus] });
  let dashboard: Dashboard | undefined;
  return {
    meterProvider,
    attach(server) {
      dashboard = createDashboard({ server, authorize: fromLoopback });
      return dashboard;
    },
    handle(path, request, response) {
      if (dashboard !== undefined && (path === "/dashboard" || path.startsWith("/dashboard/"))) {
        dashboard.handle(request, response);
        return true;
      }
      if (path !== "/metrics") return false;
      if (request.method !== "GET" && request.method !== "HEAD") {
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

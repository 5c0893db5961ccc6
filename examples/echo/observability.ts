// The demo's operations side, on its own HTTP server (no second port):
// the OpenTelemetry SDK with a Prometheus reader, its exposition at
// GET /metrics. The Heartline server is given this provider as its
// `meterProvider`; an application with one server per process would
// register it globally instead (`metrics.setGlobalMeterProvider`) before
// creating the server. The demo passes it explicitly so that several demo
// servers can run in one process (its tests do).
import type { IncomingMessage, ServerResponse } from "node:http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

export interface Observability {
  readonly meterProvider: MeterProvider;
  /** Answers the requests it owns (`/metrics`); returns false for every other path. */
  handle(path: string, request: IncomingMessage, response: ServerResponse): boolean;
  close(): Promise<void>;
}

export function createObservability(): Observability {
  // `preventServerStart`: the exporter's handler is mounted on the demo's server instead.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [prometheus] });
  return {
    meterProvider,
    handle(path, request, response) {
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

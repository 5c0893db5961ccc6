// bench/servers/heartline.mjs, unchanged, with the OpenTelemetry SDK
// registered first (as an application would: global provider, then the
// server) and a Prometheus reader scraped every BENCH_SCRAPE_MS (default
// 1000 ms, 15× Prometheus's default rate: a pessimistic figure). The scrape
// runs in-process, collect + serialize, exactly what the exporter's /metrics
// handler does, so the cost lands in the measured process. Issue 16's cost
// check: node bench/otel-cost.mjs.
import { metrics } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

const scrapeMs = Number(process.env.BENCH_SCRAPE_MS ?? 1000);
const exporter = new PrometheusExporter({ preventServerStart: true });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));

const serializer = new PrometheusSerializer();
let scrapes = 0;
let bytes = 0;
setInterval(async () => {
  const { resourceMetrics } = await exporter.collect();
  bytes += serializer.serialize(resourceMetrics).length;
  scrapes++;
}, scrapeMs).unref();
process.on("exit", () => {
  if (scrapes > 0) process.stderr.write(`heartline-otel: ${scrapes} scrapes, ${bytes} bytes\n`);
});

await import("./heartline.mjs");

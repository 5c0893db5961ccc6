// The only work a registered SDK adds while connections just heartbeat: one
// collection + Prometheus serialization per scrape (per-frame figures are
// read from stats() then; no instrument is called per frame, which
// packages/server/test/metrics.test.ts checks). This times that scrape with
// N open connections in a transport-free core, in-process, so the figure does
// not depend on a load generator sharing a busy machine:
//
//   node --import tsx --conditions heartline-source bench/otel-scrape-cost.ts [N] [scrapes]
//
// and turns it into a share of the server's CPU per heartbeat, given the
// plain server's CPU per 1,000 heartbeats (BENCH_BASE_MS_PER_1K, from a
// bench run).

import { createServerCore, type ServerTransport } from "@heartline/server";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

const n = Number(process.argv[2] ?? 15_000);
const scrapes = Number(process.argv[3] ?? 2000);
const baseMsPer1k = Number(process.env.BENCH_BASE_MS_PER_1K ?? 40);

const transport: ServerTransport = { send() {}, close() {}, terminate() {}, bufferedAmount: 0 };
const exporter = new PrometheusExporter({ preventServerStart: true });
const core = createServerCore({ meterProvider: new MeterProvider({ readers: [exporter] }) });
for (let i = 0; i < n; i++) core.accept(transport, { remoteAddress: "127.0.0.1", auth: undefined });
// Some of everything, so every series exists.
core.reportRejected({ status: 403, reason: "origin_not_allowed", remoteAddress: undefined });
for (const conn of [...core.connections()].slice(0, 10)) conn.close(4000);

const serializer = new PrometheusSerializer();
const scrape = async () => serializer.serialize((await exporter.collect()).resourceMetrics).length;
for (let i = 0; i < 200; i++) await scrape(); // warm up
const cpu0 = process.cpuUsage();
let bytes = 0;
for (let i = 0; i < scrapes; i++) bytes += await scrape();
const used = process.cpuUsage(cpu0);
const perScrapeMs = (used.user + used.system) / 1000 / scrapes;
// At X = 1 s, N connections make N heartbeats a second; one scrape a second.
const heartbeatsPerSecond = n;
const addedPer1kMs = (perScrapeMs * 1000) / heartbeatsPerSecond;
process.stdout.write(
  `N = ${n}: ${scrapes} scrapes, ${perScrapeMs.toFixed(3)} ms CPU each (${Math.round(bytes / scrapes)} bytes). ` +
    `Scraped every second at X = 1 s: +${addedPer1kMs.toFixed(4)} ms per 1,000 heartbeats, ` +
    `${((addedPer1kMs / baseMsPer1k) * 100).toFixed(3)}% of ${baseMsPer1k} ms per 1,000 heartbeats.\n`,
);
await core.close();

// GET /metrics on the demo's own HTTP server: the Prometheus exposition
// parses, and the figures move with real traffic (a connection, a silent
// client timed out, a refused origin).
import parsePrometheusTextFormat, {
  type PrometheusFamily,
  type PrometheusSample,
} from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type EchoEvent, type EchoServer, startEchoServer } from "../echo-server.js";

const servers: EchoServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

const OPS_TOKEN = "metrics-test-token-0123456789";
const authorized = { headers: { authorization: `Bearer ${OPS_TOKEN}` } };

async function scrape(server: EchoServer): Promise<Map<string, PrometheusFamily>> {
  const response = await fetch(new URL("/metrics", server.url), authorized);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  const text = await response.text();
  // Every sample line belongs to a family announced by # TYPE (the parser would drop it otherwise).
  const families = parsePrometheusTextFormat(text);
  const announced = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  expect(families.map((f) => f.name).sort()).toEqual([...announced].sort());
  return new Map(families.map((family) => [family.name, family]));
}

function sample(
  families: Map<string, PrometheusFamily>,
  name: string,
  labels: Record<string, string> = {},
): PrometheusSample | undefined {
  return families
    .get(name)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

const text = async (server: EchoServer): Promise<string> =>
  (await fetch(new URL("/metrics", server.url), authorized)).text();

const value = (s: PrometheusSample | undefined): number => Number(s?.value ?? 0);

function openSilent(
  url: string,
  headers: Record<string, string> = {},
): Promise<WebSocket | number> {
  const ws = new WebSocket(url, "heartline.v1", { headers });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws)); // and then never sends a thing
    ws.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? -1));
    ws.once("error", reject);
  });
}

describe("the demo's GET /metrics", () => {
  it("shows a connection, a timeout with its lateness, and a refused origin", async () => {
    const disconnects: EchoEvent[] = [];
    let timedOut: () => void = () => {};
    const timeout = new Promise<void>((resolve) => {
      timedOut = resolve;
    });
    const server = await startEchoServer({
      port: 0,
      opsToken: OPS_TOKEN,
      // A short timeout (2 × 50 ms) so the silent client is dropped soon; the
      // test waits for that disconnect event, not for a fixed time.
      intervalMs: 50,
      allowedOrigins: ["http://allowed.example"],
      on: {
        disconnect: (event) => {
          disconnects.push(event);
          if (event.reason === "timeout") timedOut();
        },
      },
    });
    servers.push(server);
    const ws = `${server.url.replace(/^http/, "ws")}ws`;

    let families = await scrape(server);
    expect(value(sample(families, "heartline_server_connections"))).toBe(0);
    expect(families.get("heartline_server_connections")?.type).toBe("GAUGE");

    const silent = await openSilent(ws);
    expect(silent).toBeInstanceOf(WebSocket);
    families = await scrape(server);
    expect(value(sample(families, "heartline_server_connections"))).toBe(1);

    await timeout;
    families = await scrape(server);
    expect(value(sample(families, "heartline_server_connections"))).toBe(0);
    const disconnectsFamily = "heartline_server_disconnects_total";
    expect(families.get(disconnectsFamily)?.type).toBe("COUNTER");
    expect(
      value(sample(families, disconnectsFamily, { heartline_disconnect_reason: "timeout" })),
    ).toBe(1);
    // OpenTelemetry → Prometheus: unit `s` is the `_seconds` suffix (prometheusViews()).
    expect(families.has("heartline_server_timeout_lateness")).toBe(false);
    const lateness = families.get("heartline_server_timeout_lateness_seconds");
    expect(lateness?.type).toBe("HISTOGRAM");
    // The parser folds a labelled histogram (the exporter labels every series
    // with otel_scope_name) into one sample and keeps only its buckets, losing
    // _count and _sum: the count is read from +Inf, the sum from the text.
    const buckets = lateness!.metrics[0]!.buckets ?? {};
    expect(Number(buckets["+Inf"])).toBe(1);
    expect(Object.keys(buckets)).toEqual(expect.arrayContaining(["0", "0.0005", "0.001", "0.002"]));
    // Lateness is report time − deadline: never negative, and on an idle loop well under a second.
    expect(Number(buckets["1"])).toBe(1);
    const latenessSum = /^heartline_server_timeout_lateness_seconds_sum\{[^}]*\} (\S+)$/m.exec(
      await text(server),
    );
    expect(Number(latenessSum?.[1])).toBeGreaterThanOrEqual(0);
    expect(Number(latenessSum?.[1])).toBeLessThan(1);
    const duration = families.get("heartline_server_connection_duration_seconds");
    expect(duration?.type).toBe("HISTOGRAM");
    expect(Number(duration?.metrics[0]?.buckets?.["+Inf"])).toBe(1);
    await expect(text(server)).resolves.toMatch(
      /^heartline_server_connection_duration_seconds_count\{heartline_disconnect_reason="timeout",[^}]*\} 1$/m,
    );

    expect(await openSilent(ws, { origin: "http://evil.example" })).toBe(403);
    families = await scrape(server);
    expect(
      value(
        sample(families, "heartline_server_upgrades_rejected_total", {
          http_response_status_code: "403",
          heartline_upgrade_reject_reason: "origin_not_allowed",
        }),
      ),
    ).toBe(1);
    expect(disconnects.map((e) => e.event === "disconnect" && e.reason)).toEqual(["timeout"]);
  });

  it("has its series from the start, the new figures, and service.name", async () => {
    const server = await startEchoServer({ port: 0, opsToken: OPS_TOKEN, serviceName: "echo-x" });
    servers.push(server);
    const body = await text(server);
    const families = await scrape(server);
    expect(body).toMatch(/^target_info\{[^}]*service_name="echo-x"/m);
    expect(
      value(
        sample(families, "heartline_server_disconnects_total", {
          heartline_disconnect_reason: "timeout",
        }),
      ),
    ).toBe(0);
    expect(
      sample(families, "heartline_server_upgrades_rejected_total", {
        http_response_status_code: "403",
        heartline_upgrade_reject_reason: "origin_not_allowed",
      }),
    ).toBeDefined();
    expect(families.get("heartline_server_outbound_buffered_bytes")?.type).toBe("GAUGE");
    expect(families.get("heartline_server_accept_errors_total")?.type).toBe("COUNTER");
    expect(families.get("nodejs_eventloop_delay_p99_seconds")?.type).toBe("GAUGE");
    expect(families.get("nodejs_eventloop_delay_max_seconds")?.type).toBe("GAUGE");
  });

  it("answers only GET and HEAD", async () => {
    const server = await startEchoServer({ port: 0, opsToken: OPS_TOKEN });
    servers.push(server);
    expect(
      (await fetch(new URL("/metrics", server.url), { method: "POST", ...authorized })).status,
    ).toBe(405);
  });
});

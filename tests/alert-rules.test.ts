// The server README's example alert rules: well-formed Prometheus rule groups
// whose every series exists in a real exposition (the echo demo's /metrics
// after real traffic, and @heartline/redis's presence figures through the
// same exporter), and `promtool check rules` where promtool is installed.
//
// Why promtool is not in CI: Debian's `prometheus` package (2.42) is the
// only one carrying it, and it is the whole server: 19 MB to download, 96 MB
// installed, a service user and unit, and a dozen JavaScript and font
// packages. Too heavy for .ci/run to install for one lint; CI runs the
// structural and series checks below, and the promtool test is skipped
// (saying so) where promtool is absent.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { instrumentPresence, type PresenceStats } from "@heartline/redis";
import { prometheusViews } from "@heartline/server";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parse } from "yaml";
import { type EchoServer, startEchoServer } from "../examples/echo/echo-server.js";

const readme = fileURLToPath(new URL("../packages/server/README.md", import.meta.url));
const MARKER = "<!-- prometheus: alert rules -->";

function rulesText(): string {
  const text = readFileSync(readme, "utf8");
  const block = /```yaml\n([\s\S]*?)```/.exec(text.slice(text.indexOf(MARKER)));
  if (text.indexOf(MARKER) === -1 || block === null) throw new Error(`no rules after ${MARKER}`);
  return block[1]!;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

const promtool = spawnSync("promtool", ["--version"]).status === 0;
if (!promtool) {
  console.warn(
    "promtool is not installed (Debian: apt-get install prometheus): `promtool check rules` is skipped; the structural and series checks still run.",
  );
}

/** The series an expression reads: metric names, with label matchers, `by (…)` lists and strings removed. */
function seriesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"[^"]*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\b(by|without)\s*\([^)]*\)/g, "");
  return [...new Set(stripped.match(/\b(heartline|nodejs)_[a-z0-9_]+\b/g) ?? [])];
}

let exposition = "";
let echo: EchoServer | undefined;

beforeAll(async () => {
  const token = "alert-rules-test-token-0123456789";
  let timedOut: () => void = () => {};
  const timeout = new Promise<void>((resolve) => {
    timedOut = resolve;
  });
  echo = await startEchoServer({
    port: 0,
    intervalMs: 50,
    opsToken: token,
    on: { disconnect: (e) => e.reason === "timeout" && timedOut() },
  });
  // A silent client, timed out at 2 × 50 ms: the lateness histogram has its first series.
  const ws = new WebSocket(`${echo.url.replace(/^http/, "ws")}ws`, "heartline.v1");
  await timeout;
  ws.terminate();
  const response = await fetch(new URL("/metrics", echo.url), {
    headers: { authorization: `Bearer ${token}` },
  });
  exposition = await response.text();
  // Presence's figures, through the same exporter and views as the demo.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter], views: [...prometheusViews()] });
  const stats: PresenceStats = {
    nodeId: "n",
    local: 0,
    buffered: 0,
    dropped: 0,
    resyncs: 1,
    heartbeats: 1,
    writeErrors: 0,
    orphansLost: 0,
    registered: true,
    state: "connected",
    outages: 0,
  };
  instrumentPresence({ stats: () => stats }, { meterProvider: provider });
  const { resourceMetrics } = await exporter.collect();
  exposition += new PrometheusSerializer().serialize(resourceMetrics);
  await provider.shutdown();
});

afterAll(async () => {
  await echo?.close();
});

describe("the README's alert rules", () => {
  it("are rule groups of alerts, each with an expression, a severity and a summary", () => {
    const doc = parse(rulesText()) as { groups: Array<{ name: string; rules: Rule[] }> };
    expect(doc.groups.map((g) => g.name)).toEqual(["heartline"]);
    const rules = doc.groups[0]!.rules;
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(typeof rule.expr).toBe("string");
      expect(["info", "warning", "critical"]).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  it("name only series the exposition has (demo /metrics and presence, with prometheusViews)", () => {
    const doc = parse(rulesText()) as { groups: Array<{ rules: Rule[] }> };
    const present = new Set(
      [...exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{| )/gm)].map((m) => m[1]),
    );
    const used = doc.groups.flatMap((g) => g.rules.flatMap((r) => seriesOf(r.expr)));
    expect(used.length).toBeGreaterThanOrEqual(8);
    const missing = used.filter((name) => !present.has(name));
    expect(missing).toEqual([]);
  });

  it.skipIf(!promtool)("pass `promtool check rules`", () => {
    const dir = mkdtempSync(join(tmpdir(), "heartline-rules-"));
    try {
      const file = join(dir, "heartline.rules.yml");
      writeFileSync(file, rulesText());
      const out = execFileSync("promtool", ["check", "rules", file], { encoding: "utf8" });
      expect(out).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

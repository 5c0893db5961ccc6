// The dashboard's handler on node:http, watching a transport-free core on a
// fake clock: authorization, routing, sampling only while watched, the live
// figures, and the server-side paged table.
import type { Server } from "node:http";
import { DisconnectReason } from "@heartline/protocol";
import { createServerCore, type ServerCore } from "@heartline/server";
import { afterEach, describe, expect, it } from "vitest";
import { createDashboard, type DashboardOptions, dashboardDefaults } from "../src/index.js";
import type { Sample, SampleShape } from "../src/sampler.js";
import { close, FakeServerTransport, fakeClock, listen, openStream, until } from "./helpers.js";

const servers: Server[] = [];
const streams: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const http of servers.splice(0)) await close(http);
});

const TIMEOUT = 2000;

async function setup(options: Partial<DashboardOptions> = {}) {
  const server = fakeClock();
  const core: ServerCore = createServerCore({ clock: server.clock, intervalMs: TIMEOUT / 2 });
  // The dashboard samples on a clock of its own, so its timers can be counted apart.
  const viewer = fakeClock();
  const dashboard = createDashboard({
    server: core,
    authorize: () => true,
    clock: viewer.clock,
    ...options,
  });
  const { http, base } = await listen(dashboard.handle);
  servers.push(http);
  const open = (address = "10.0.0.1") =>
    core.accept(new FakeServerTransport(), { remoteAddress: address, auth: undefined });
  const stream = async () => {
    const s = await openStream(`${base}/dashboard/events`);
    streams.push(s);
    return s;
  };
  return { core, dashboard, base, open, stream, server: server.fc, viewer: viewer.fc };
}

describe("dashboard: authorization", () => {
  it("requires authorize", () => {
    expect(() =>
      createDashboard({ server: createServerCore(), authorize: undefined as never }),
    ).toThrow(expect.objectContaining({ code: "invalid_option" }));
  });

  it("refuses every route with 403 unless authorize allows it, and never starts sampling", async () => {
    const seen: string[] = [];
    const { base, dashboard, viewer } = await setup({
      authorize: (request) => {
        seen.push(request.url ?? "");
        return request.headers["x-ops"] === "yes";
      },
    });
    const paths = [
      "/dashboard/",
      "/dashboard/dashboard.js",
      "/dashboard/uPlot.iife.min.js",
      "/dashboard/events",
      "/dashboard/connections",
      "/dashboard/nope",
    ];
    for (const path of paths) {
      const response = await fetch(base + path);
      expect({ path, status: response.status }).toEqual({ path, status: 403 });
    }
    expect(seen).toEqual(paths);
    expect(dashboard.watching).toBe(false);
    expect(viewer.countTimers()).toBe(0);
    expect((await fetch(`${base}/dashboard/`, { headers: { "x-ops": "yes" } })).status).toBe(200);
  });

  it("answers 403 when authorize throws or rejects, and reports each once to onError", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const { base } = await setup({
      authorize: () => {
        calls++;
        if (calls === 1) throw new Error("boom");
        return Promise.reject(new Error("later"));
      },
      onError: (error) => errors.push((error as Error).message),
    });
    expect((await fetch(`${base}/dashboard/`)).status).toBe(403);
    expect((await fetch(`${base}/dashboard/`)).status).toBe(403);
    expect(errors).toEqual(["boom", "later"]);
  });
});

describe("dashboard: routes", () => {
  it("serves the page, its script, uPlot and its stylesheet; redirects the bare mount; 404 and 405 otherwise", async () => {
    const { base } = await setup();
    const page = await fetch(`${base}/dashboard/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    for (const id of [
      "chart-open",
      "chart-disconnects",
      "chart-lateness",
      "chart-rtt",
      "chart-rejected",
      "connections",
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    const uplot = await fetch(`${base}/dashboard/uPlot.iife.min.js`);
    expect(uplot.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await uplot.text()).toContain("uPlot");
    expect((await fetch(`${base}/dashboard/uPlot.min.css`)).status).toBe(200);
    expect((await fetch(`${base}/dashboard/dashboard.js`)).status).toBe(200);
    const bare = await fetch(`${base}/dashboard?x=1`, { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/dashboard/?x=1");
    expect((await fetch(`${base}/dashboard/../../etc/passwd.txt`)).status).toBe(404);
    expect((await fetch(`${base}/dashboard/`, { method: "POST" })).status).toBe(405);
  });
});

describe("dashboard: sampling only while watched", () => {
  it("has no timer and takes no RTT before a viewer; one timer while watched; none after", async () => {
    const { dashboard, stream, viewer } = await setup();
    dashboard.recordRtt(12); // nobody watches: dropped
    expect(viewer.countTimers()).toBe(0);
    const s = await stream();
    expect((await s.next()).event).toBe("shape");
    await s.next(); // the first sample, sent at once
    expect(dashboard.watching).toBe(true);
    expect(viewer.countTimers()).toBe(1);
    viewer.tick(dashboardDefaults.sampleIntervalMs);
    expect(((await s.next()).data as Sample).rtt).toBeNull();

    const second = await stream();
    await second.next();
    await second.next();
    expect(viewer.countTimers()).toBe(1); // still one timer for two viewers
    s.close();
    second.close();
    await until(() => !dashboard.watching);
    expect(viewer.countTimers()).toBe(0);
  });

  it("streams the shape, then open connections, disconnects per second, lateness buckets, RTT and refusals", async () => {
    const { core, dashboard, stream, open, server, viewer } = await setup();
    const s = await stream();
    const shape = (await s.next()).data as SampleShape;
    expect(shape.reasons).toEqual(Object.values(DisconnectReason));
    expect(shape.sampleIntervalMs).toBe(1000);
    const first = (await s.next()).data as Sample;
    expect(first.open).toBe(0);

    // Three silent connections: all three time out together.
    open();
    open();
    open();
    server.tick(TIMEOUT);
    expect([...core.connections()].length).toBe(0);
    open();
    core.reportRejected({ status: 403, reason: "origin_not_allowed", remoteAddress: "10.0.0.9" });
    dashboard.recordRtt(10);
    dashboard.recordRtt(30);
    viewer.tick(1000);
    const sample = (await s.next()).data as Sample;
    expect(sample.open).toBe(1);
    expect(sample.disconnects.timeout).toBe(3); // 3 in 1 s
    expect(sample.totals.disconnects.timeout).toBe(3);
    // Timeouts on the fake clock are exact: all three in the "0" bucket.
    expect(sample.lateness[0]).toBe(3);
    expect(sample.lateness.reduce((a, b) => a + b, 0)).toBe(3);
    expect(sample.rejected).toEqual({ "403": 1 });
    expect(sample.rtt).toEqual({ count: 2, mean: 20, max: 30 });

    viewer.tick(1000);
    const quiet = (await s.next()).data as Sample;
    expect(quiet.disconnects.timeout).toBe(0);
    expect(quiet.lateness.reduce((a, b) => a + b, 0)).toBe(0);
    expect(quiet.rtt).toBeNull();
    expect(quiet.totals.rejected).toEqual({ "403": 1 });
  });
});

describe("dashboard: the connections table", () => {
  it("pages on the server: 120 connections, 50 a page, clamped to the last page", async () => {
    const { base, open, server, core } = await setup();
    for (let i = 0; i < 120; i++) open(`10.0.0.${i % 250}`);
    server.tick(700);
    const first = [...core.connections()][0]!;
    const get = async (page: number) =>
      (await (await fetch(`${base}/dashboard/connections?page=${page}`)).json()) as {
        total: number;
        page: number;
        pageSize: number;
        rows: Array<{
          sessionId: string;
          remoteAddress: string;
          connectedForMs: number;
          lastHeardAgoMs: number;
        }>;
      };
    const page0 = await get(0);
    expect(page0).toMatchObject({ total: 120, page: 0, pageSize: 50 });
    expect(page0.rows).toHaveLength(50);
    expect(page0.rows[0]).toEqual({
      sessionId: first.sessionId,
      remoteAddress: "10.0.0.0",
      connectedForMs: 0, // the table reads the dashboard's clock, still at its start
      lastHeardAgoMs: 0,
    });
    const page2 = await get(2);
    expect(page2.rows).toHaveLength(20);
    expect(page2.rows[0]!.remoteAddress).toBe("10.0.0.100");
    expect((await get(99)).page).toBe(2);
    expect((await get(-3)).page).toBe(0);
  });

  it("shows connected-for and last-heard on the server's clock", async () => {
    const server = fakeClock();
    const core = createServerCore({ clock: server.clock, intervalMs: 10_000 });
    const dashboard = createDashboard({ server: core, authorize: () => true, clock: server.clock });
    const { http, base } = await listen(dashboard.handle);
    servers.push(http);
    const sink = core.accept(new FakeServerTransport(), { remoteAddress: "::1", auth: undefined });
    server.fc.tick(4000);
    sink.receive('{"type":"ping","seq":0}');
    server.fc.tick(1500);
    const body = await (await fetch(`${base}/connections`)).json();
    expect(body.rows[0]).toMatchObject({ connectedForMs: 5500, lastHeardAgoMs: 1500 });
  });
});

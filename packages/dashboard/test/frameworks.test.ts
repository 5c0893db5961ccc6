// The dashboard's handler mounted in the frameworks the server README
// shows, for real: Express (app.use under a prefix) and Fastify (a hijacked route).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServerCore } from "@heartline/server";
import express from "express";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { createDashboard } from "../src/index.js";
import { close, FakeServerTransport, openStream } from "./helpers.js";

function watched() {
  const core = createServerCore();
  core.accept(new FakeServerTransport(), { remoteAddress: "10.1.2.3", auth: undefined });
  const dashboard = createDashboard({
    server: core,
    authorize: (request) => request.headers.authorization === "Bearer ops",
  });
  return { core, dashboard };
}

const auth = { headers: { authorization: "Bearer ops" } };

async function checkMounted(base: string, dashboard: ReturnType<typeof createDashboard>) {
  expect((await fetch(`${base}/ops/`)).status).toBe(403);
  const page = await fetch(`${base}/ops/`, auth);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Heartline operations");
  const bare = await fetch(`${base}/ops`, { ...auth, redirect: "manual" });
  expect(bare.status).toBe(308);
  expect(bare.headers.get("location")).toBe("/ops/");
  const table = await (await fetch(`${base}/ops/connections?page=0`, auth)).json();
  expect(table.total).toBe(1);
  expect(table.rows[0].remoteAddress).toBe("10.1.2.3");
  const stream = await openStream(`${base}/ops/events`);
  try {
    expect(stream.response.status).toBe(403);
  } finally {
    stream.close();
  }
  const live = await fetch(`${base}/ops/events`, auth);
  expect(live.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect(dashboard.watching).toBe(true);
  await live.body?.cancel();
}

describe("dashboard in frameworks", () => {
  it("Express 5: app.use('/ops', dashboard.handle), other routes unaffected", async () => {
    const { dashboard } = watched();
    // --- example start ---
    const app = express();
    app.get("/health", (_req, res) => {
      res.json({ ok: true });
    });
    app.use("/ops", dashboard.handle);
    // --- example end ---
    const http: Server = app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) =>
      http.listening ? resolve() : http.once("listening", resolve),
    );
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ ok: true });
      await checkMounted(base, dashboard);
    } finally {
      await close(http);
    }
  });

  it("Fastify 5: a hijacked route hands the raw request and response over", async () => {
    const { dashboard } = watched();
    // --- example start ---
    const app = Fastify();
    app.get("/health", async () => ({ ok: true }));
    for (const url of ["/ops", "/ops/*"]) {
      app.route({
        method: ["GET", "HEAD"],
        url,
        handler: (request, reply) => {
          reply.hijack(); // Fastify leaves the response to the dashboard
          dashboard.handle(request.raw, reply.raw);
        },
      });
    }
    // --- example end ---
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      expect((await app.inject({ url: "/health" })).json()).toEqual({ ok: true });
      await checkMounted(base, dashboard);
    } finally {
      app.server.closeAllConnections();
      await app.close();
    }
  });
});

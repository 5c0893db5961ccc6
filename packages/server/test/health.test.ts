// The readiness handler on node:http, Express and Fastify: 200 while open,
// 503 + Retry-After while draining (clients kept, new upgrades 503) and when
// a dependency is down.
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { createHealthHandler, createServer, readiness } from "../src/index.js";
import { TestClient } from "./helpers.js";

async function get(port: number, path = "/readyz") {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: await response.json(),
  };
}

async function listening(http: Server): Promise<number> {
  if (!http.listening) await new Promise((resolve) => http.once("listening", resolve));
  return (http.address() as AddressInfo).port;
}

describe("readiness", () => {
  it("node:http: 200 open; 503 + Retry-After while draining, the client kept and new upgrades refused 503", async () => {
    let storeUp = true;
    const http = createHttpServer();
    const hl = createServer({ server: http });
    const ready = createHealthHandler({ server: hl, dependencies: { store: () => storeUp } });
    http.on("request", (req, res) => (req.url === "/readyz" ? ready(req, res) : res.end()));
    http.listen(0, "127.0.0.1");
    const port = await listening(http);
    try {
      expect(await get(port)).toEqual({
        status: 200,
        retryAfter: null,
        body: { ready: true, server: "open", dependencies: { store: "up" } },
      });
      storeUp = false;
      expect(await get(port)).toMatchObject({
        status: 503,
        retryAfter: "5",
        body: { ready: false, server: "open", dependencies: { store: "down" } },
      });
      storeUp = true;
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`);
      const closing = hl.close({ drainMs: 300 });
      expect(await get(port)).toMatchObject({ status: 503, body: { server: "draining" } });
      expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`)).toBe(503);
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      await closing;
      expect((await client.closed).code).toBe(1001);
      expect(client.frames.at(-1)).toMatchObject({ type: "goodbye" });
      expect(await get(port)).toMatchObject({ status: 503, body: { server: "closed" } });
    } finally {
      await hl.close();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("Express: app.get(path, handler)", async () => {
    const app = express();
    const hl = createServer({ noServer: true });
    app.get("/readyz", createHealthHandler({ server: hl }));
    const http = app.listen(0, "127.0.0.1");
    try {
      const port = await listening(http);
      expect((await get(port)).status).toBe(200);
      await hl.close();
      expect(await get(port)).toMatchObject({ status: 503, body: { server: "closed" } });
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("Fastify: readiness() as data in a route", async () => {
    const app = Fastify();
    const hl = createServer({ noServer: true });
    app.get("/readyz", async (_request, reply) => {
      const report = readiness({ server: hl });
      return reply.code(report.status).send(report.body);
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const port = (app.server.address() as AddressInfo).port;
      expect((await get(port)).status).toBe(200);
      void hl.close({ drainMs: 200 });
      expect(await get(port)).toMatchObject({ status: 503, body: { server: "draining" } });
    } finally {
      await hl.close();
      await app.close();
    }
  });
});

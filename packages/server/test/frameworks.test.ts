// The framework examples from the README, run for real: the framework owns
// the HTTP server and hands WebSocket upgrades to Heartline.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { createServer } from "../src/index.js";
import { record, TestClient, until } from "./helpers.js";

describe("framework examples", () => {
  it("Express 5: app routes keep working, /ws upgrades go to Heartline", async () => {
    // --- example start ---
    const app = express();
    app.get("/health", (_req, res) => {
      res.json({ ok: true });
    });
    const http: Server = app.listen(0, "127.0.0.1");
    const hl = createServer({
      noServer: true,
      authenticate: (req) =>
        req.headers.authorization === "Bearer t0k3n" ? { user: "ada" } : false,
      on: {
        message: (conn, data) => {
          conn.send({ echo: data, user: conn.auth.user });
        },
      },
    });
    http.on("upgrade", (req, socket, head) => {
      void hl.handleUpgrade(req, socket, head);
    });
    // --- example end ---
    const events = record(hl);
    try {
      await new Promise<void>((resolve) =>
        http.listening ? resolve() : http.once("listening", resolve),
      );
      const { port } = http.address() as AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ ok: true });
      expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`)).toBe(401);
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`, "heartline.v1", {
        headers: { authorization: "Bearer t0k3n" },
      });
      client.send({ type: "message", data: "hi" });
      await until(() => client.ofType("message").length === 1, "echo");
      expect(client.ofType("message")[0]!.data).toEqual({ echo: "hi", user: "ada" });
      expect(events.connections[0]!.auth).toEqual({ user: "ada" });
    } finally {
      await hl.close();
      await new Promise((resolve) => http.close(resolve));
    }
    expect(events.disconnects.map((d) => d.reason)).toEqual(["server_closed"]);
  });

  it("Fastify 5: upgrades from app.server, closed with the app", async () => {
    // --- example start ---
    const app = Fastify();
    app.get("/health", async () => ({ ok: true }));
    const hl = createServer({ noServer: true, path: "/live" });
    app.server.on("upgrade", (req, socket, head) => {
      void hl.handleUpgrade(req, socket, head);
    });
    // preClose, not onClose: open WebSockets would keep the HTTP server from closing.
    app.addHook("preClose", async () => {
      await hl.close();
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    // --- example end ---
    const events = record(hl);
    const { port } = app.server.address() as AddressInfo;
    let client: TestClient | undefined;
    try {
      expect((await app.inject({ url: "/health" })).json()).toEqual({ ok: true });
      client = await TestClient.connect(`ws://127.0.0.1:${port}/live`);
      client.send({ type: "ping", seq: 3 });
      await until(() => client!.ofType("pong").length === 1, "pong");
      expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`)).toBe(404);
    } finally {
      // (Fastify's close() must be called once only.)
      await app.close();
    }
    expect((await client.closed).code).toBe(1001);
    expect(client.frames.at(-1)?.type).toBe("goodbye");
    expect(events.disconnects.map((d) => d.reason)).toEqual(["server_closed"]);
  });
});

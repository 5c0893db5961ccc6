import { createServer as createHttpServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type HeartlineServer, UpgradeRejectReason } from "../src/index.js";
import { record, startServer, TestClient, until } from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  closers.push(() => s.hl.close());
  return s;
}

describe("upgrade checks, in the contract's order", () => {
  it.each([
    ["a wrong path", "/other", undefined, {}, 404, UpgradeRejectReason.NotFound],
    ["a path with a query is still its path", "/ws/x?y", undefined, {}, 404, "not_found"],
    [
      "an origin not on the list",
      "/ws",
      "heartline.v1",
      { origin: "https://evil.example" },
      403,
      UpgradeRejectReason.OriginNotAllowed,
    ],
    [
      "subprotocols offered without heartline.v1",
      "/ws",
      ["chat", "heartline.v2"],
      {},
      400,
      UpgradeRejectReason.UnsupportedSubprotocol,
    ],
  ] as const)("refuses %s", async (_name, path, protocols, headers, status, reason) => {
    const { port, events, hl } = await start({ allowedOrigins: ["https://app.example"] });
    const url = `ws://127.0.0.1:${port}${path}`;
    const got = await TestClient.refused(url, protocols as string[] | undefined, {
      headers: headers as Record<string, string>,
    });
    expect(got).toBe(status);
    await until(() => events.rejections.length === 1, "rejection report");
    expect(events.rejections).toEqual([{ status, reason, remoteAddress: "127.0.0.1" }]);
    expect(hl.stats().upgradesRejected).toEqual({ [status]: 1 });
    expect(events.connections).toEqual([]);
  });

  it("checks path before origin, origin before subprotocol, subprotocol before authenticate", async () => {
    let authCalls = 0;
    const { port, events } = await start({
      allowedOrigins: ["https://app.example"],
      authenticate: () => {
        authCalls++;
        return false;
      },
    });
    const bad = { headers: { origin: "https://evil.example" } };
    expect(await TestClient.refused(`ws://127.0.0.1:${port}/nope`, ["x"], bad)).toBe(404);
    expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`, ["x"], bad)).toBe(403);
    expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`, ["x"])).toBe(400);
    expect(authCalls).toBe(0);
    expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`, ["heartline.v1"])).toBe(401);
    expect(authCalls).toBe(1);
    await until(() => events.rejections.length === 4, "four reports");
    expect(events.rejections.map((r) => r.status)).toEqual([404, 403, 400, 401]);
  });

  it("compares origins in serialized form, case-insensitively; a missing Origin passes", async () => {
    const { url, events } = await start({
      allowedOrigins: ["https://App.Example/", "http://localhost:5000"],
    });
    for (const origin of [
      "HTTPS://APP.EXAMPLE",
      "https://app.example:443",
      "http://localhost:5000",
    ]) {
      const client = await TestClient.connect(url, "heartline.v1", { headers: { origin } });
      client.ws.close();
    }
    const noOrigin = await TestClient.connect(url);
    noOrigin.ws.close();
    expect(
      await TestClient.refused(url, "heartline.v1", {
        headers: { origin: "http://localhost:5001" },
      }),
    ).toBe(403);
    expect(await TestClient.refused(url, "heartline.v1", { headers: { origin: "null" } })).toBe(
      403,
    );
    expect(events.connections).toHaveLength(4);
  });

  it('accepts every origin with the explicit wildcard "*"', async () => {
    const { url } = await start({ allowedOrigins: "*" });
    const client = await TestClient.connect(url, "heartline.v1", {
      headers: { origin: "https://anything.example" },
    });
    expect(client.frames[0]?.type).toBe("welcome");
  });

  it("without a list, lets only the same origin pass: the Origin's host and port against Host", async () => {
    const { url, port, events } = await start();
    // ws sends Host: 127.0.0.1:<port>; the page a browser loaded from this server has the same origin.
    const same = await TestClient.connect(url, "heartline.v1", {
      headers: { origin: `http://127.0.0.1:${port}` },
    });
    expect(same.frames[0]?.type).toBe("welcome");
    for (const origin of [
      "https://evil.example",
      `http://127.0.0.1:${port + 1}`,
      `http://localhost:${port}`,
      "null",
    ]) {
      expect(await TestClient.refused(url, "heartline.v1", { headers: { origin } })).toBe(403);
    }
    await until(() => events.rejections.length === 4, "four rejections");
    expect(new Set(events.rejections.map((r) => r.reason))).toEqual(
      new Set(["origin_not_allowed"]),
    );
  });

  it("selects heartline.v1 among other offers, and accepts a client offering none", async () => {
    const { url } = await start();
    const among = await TestClient.connect(url, ["chat", "heartline.v1"]);
    expect(among.ws.protocol).toBe("heartline.v1");
    const none = await TestClient.connect(url, []);
    expect(none.ws.protocol).toBe("");
    expect(none.frames[0]?.type).toBe("welcome");
  });

  it("attaches what authenticate resolves to as conn.auth, and reports it on disconnect", async () => {
    const { url, events, hl } = await start({
      authenticate: async (request) => {
        const token = new URL(request.url ?? "/", "http://x").searchParams.get("token");
        return token === "good" ? { userId: "u1" } : false;
      },
    });
    expect(await TestClient.refused(`${url}?token=bad`)).toBe(401);
    const client = await TestClient.connect(`${url}?token=good`);
    expect(events.connections[0]!.auth).toEqual({ userId: "u1" });
    client.ws.close(1000);
    await until(() => events.disconnects.length === 1, "disconnect");
    expect(events.disconnects[0]).toMatchObject({
      reason: "client_closed",
      code: 1000,
      auth: { userId: "u1" },
    });
    expect(hl.stats().upgradesRejected).toEqual({ 401: 1 });
  });

  it("refuses with 401 when authenticate throws, and reports the throw on the error event", async () => {
    const { url, events } = await start({
      authenticate: async () => {
        throw new Error("db down");
      },
    });
    expect(await TestClient.refused(url)).toBe(401);
    await until(() => events.errors.length === 1, "error report");
    expect(events.errors[0]).toMatchObject({ code: "authenticate_threw" });
    expect((events.errors[0]!.cause as Error).message).toBe("db down");
    expect(events.rejections).toEqual([
      { status: 401, reason: "unauthorized", remoteAddress: "127.0.0.1" },
    ]);
  });

  it("reports ws's own handshake refusals (a bad Sec-WebSocket-Version) once", async () => {
    const { port, events } = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        path: "/ws",
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version": "7",
        },
      });
      req.on("response", (res) => resolve(res.statusCode ?? -1));
      req.on("upgrade", () => reject(new Error("upgraded")));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
    await until(() => events.rejections.length === 1, "report");
    expect(events.rejections[0]).toMatchObject({ status: 400, reason: "invalid_handshake" });
  });

  it("answers plain HTTP on the standalone server with 426", async () => {
    const { port } = await start();
    const res = await fetch(`http://127.0.0.1:${port}/ws`);
    expect(res.status).toBe(426);
  });
});

describe("attaching", () => {
  it("attaches to an existing http server, leaving its requests alone", async () => {
    const http = createHttpServer((_req, res) => res.end("app"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const hl = createServer({ server: http });
    closers.push(async () => {
      await hl.close();
      await new Promise((resolve) => http.close(resolve));
    });
    const events = record(hl);
    const { port } = http.address() as AddressInfo;
    expect((hl.address() as AddressInfo).port).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("app");
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`);
    expect(client.frames[0]?.type).toBe("welcome");
    expect(events.connections).toHaveLength(1);
    expect(events.connections[0]!.remoteAddress).toBe("127.0.0.1");
  });

  it("takes upgrades from handleUpgrade with noServer, and routes with shouldHandle", async () => {
    const http = createHttpServer();
    const hl = createServer({ noServer: true, path: "/live" });
    let otherUpgrades = 0;
    http.on("upgrade", (req, socket, head) => {
      if (hl.shouldHandle(req)) void hl.handleUpgrade(req, socket, head);
      else {
        otherUpgrades++;
        socket.destroy();
      }
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    closers.push(async () => {
      await hl.close();
      await new Promise((resolve) => http.close(resolve));
    });
    const { port } = http.address() as AddressInfo;
    expect(hl.address()).toBeNull();
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/live`);
    expect(client.frames[0]?.type).toBe("welcome");
    await TestClient.refused(`ws://127.0.0.1:${port}/ws`).catch(() => -1);
    expect(otherUpgrades).toBe(1);
  });

  it("refuses a configuration with no attachment or with two", () => {
    expect(() => createServer({})).toThrow(expect.objectContaining({ code: "invalid_option" }));
    expect(() => createServer({ noServer: true, port: 0 })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });

  it("rejects listening when the port is taken, and reports it", async () => {
    const first = await start();
    const hl: HeartlineServer = createServer({ port: first.port, host: "127.0.0.1" });
    const events = record(hl);
    await expect(hl.listening).rejects.toMatchObject({ code: "listen_failed" });
    expect(events.errors.map((e) => e.code)).toEqual(["listen_failed"]);
  });
});

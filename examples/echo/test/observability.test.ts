// The demo's operations endpoints: off without OPS_TOKEN, and then only for a
// request carrying it (Bearer, or Basic as a browser sends it). Never the
// socket's address: behind a proxy on the same host every request is 127.0.0.1.
import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../echo-server.js";
import { carriesToken } from "../observability.js";

const TOKEN = "s3cret-ops-token-0123456789";
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const request = (authorization: string | undefined) =>
  ({
    headers: authorization === undefined ? {} : { authorization },
    socket: { remoteAddress: "127.0.0.1" },
  }) as unknown as IncomingMessage;

describe("carriesToken (the demo's operations authorization)", () => {
  it.each([
    [`Bearer ${TOKEN}`, true],
    [`bearer ${TOKEN}`, true],
    [basic("ops", TOKEN), true],
    [basic("anyone", TOKEN), true],
    [`Bearer ${TOKEN}x`, false],
    [`Bearer ${TOKEN.slice(1)}`, false],
    [basic(TOKEN, "nope"), false],
    ["Bearer ", false],
    [TOKEN, false],
    [undefined, false], // a loopback socket alone is not enough
  ])("%s → %s", (authorization, allowed) => {
    expect(carriesToken(TOKEN)(request(authorization))).toBe(allowed);
  });
});

describe("the demo's /dashboard and /metrics", () => {
  const servers: EchoServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it("are off (404) without an ops token, even from loopback", async () => {
    const server = await startEchoServer({ port: 0 });
    servers.push(server);
    expect(server.dashboard).toBeUndefined();
    for (const path of ["/dashboard/", "/dashboard", "/metrics"]) {
      expect((await fetch(new URL(path, server.url))).status).toBe(404);
    }
    expect((await fetch(new URL("/ws", server.url))).status).toBe(426);
  });

  it("with a token: 401 with a Basic challenge without it, the page and the figures with it", async () => {
    const server = await startEchoServer({ port: 0, opsToken: TOKEN });
    servers.push(server);
    const refused = await fetch(new URL("/dashboard/", server.url));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect((await fetch(new URL("/metrics", server.url))).status).toBe(401);
    const headers = { authorization: basic("ops", TOKEN) };
    const page = await fetch(new URL("/dashboard/", server.url), { headers });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Heartline operations");
    const table = await (
      await fetch(new URL("/dashboard/connections", server.url), { headers })
    ).json();
    expect(table).toMatchObject({ total: 0, page: 0, rows: [] });
    const metrics = await fetch(new URL("/metrics", server.url), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^target_info\{[^}]*service_name="heartline-echo"/m);
  });

  it("answers /readyz 200 while open and 503 while draining; /healthz 200", async () => {
    const server = await startEchoServer({ port: 0, drainMs: 300 });
    servers.push(server);
    expect((await fetch(new URL("/readyz", server.url))).status).toBe(200);
    const closing = server.close();
    const draining = await fetch(new URL("/readyz", server.url));
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ ready: false, server: "draining" });
    expect((await fetch(new URL("/healthz", server.url))).status).toBe(200);
    await closing;
  });
});

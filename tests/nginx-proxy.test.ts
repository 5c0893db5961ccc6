// The echo demo behind a real nginx (Debian's, in the foreground on
// loopback) with the server README's configuration ("Behind a reverse
// proxy"): the page's own origin through the proxy, a forged X-Forwarded-For
// against the per-address limit, an idle connection against nginx's idle
// timeout, and the operations endpoints refused through the proxy.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  type EchoEvent,
  type EchoServer,
  type EchoServerOptions,
  startEchoServer,
} from "../examples/echo/echo-server.js";
import { type Nginx, replaceIn, skipNginxTests, startNginx } from "./support/nginx.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function demoBehindNginx(
  options: EchoServerOptions,
  edit?: (config: string) => string,
): Promise<{ echo: EchoServer; nginx: Nginx; events: EchoEvent[]; ws: string }> {
  const events: EchoEvent[] = [];
  const push = (event: EchoEvent) => events.push(event);
  const echo = await startEchoServer({
    port: 0,
    ...options,
    on: { connect: push, disconnect: push, rejected: push },
  });
  cleanups.push(() => echo.close());
  const nginx = await startNginx(echo.port, edit);
  cleanups.push(() => nginx.stop());
  return { echo, nginx, events, ws: `ws://127.0.0.1:${nginx.port}/ws` };
}

/** Opens a WebSocket; resolves with it once open, or with the HTTP status it was refused with. */
function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  const ws = new WebSocket(url, "heartline.v1", { headers });
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? -1);
      response.resume();
    });
    ws.once("error", reject);
  });
}

describe.skipIf(skipNginxTests)("the echo demo behind nginx (README configuration)", () => {
  it("accepts the page's own origin through the proxy and refuses a cross-site one 403, with a refusal line", async () => {
    const { nginx, events, ws } = await demoBehindNginx({ trustProxy: 1 });
    const page = `http://127.0.0.1:${nginx.port}`;
    expect(await open(ws, { origin: page })).toBeInstanceOf(WebSocket);
    expect(await open(ws, { origin: "http://evil.example" })).toBe(403);
    expect(events.filter((e) => e.event === "upgrade_rejected")).toEqual([
      {
        event: "upgrade_rejected",
        status: 403,
        reason: "origin_not_allowed",
        origin: "http://evil.example",
        host: `127.0.0.1:${nginx.port}`,
        address: "127.0.0.1",
        at: expect.any(String),
      },
    ]);
  });

  it("without trustProxy the same configuration refuses the page's own origin (what the setting fixes)", async () => {
    const { nginx, events, ws } = await demoBehindNginx({});
    expect(await open(ws, { origin: `http://127.0.0.1:${nginx.port}` })).toBe(403);
    // nginx's `Host $host` dropped the port: the origin check saw the host alone.
    expect(events.at(-1)).toMatchObject({ reason: "origin_not_allowed", host: "127.0.0.1" });
  });

  it("holds a per-address limit of 2 on the real client address: 5 forged X-Forwarded-For get 2 in", async () => {
    const { events, ws } = await demoBehindNginx({ trustProxy: 1, maxConnectionsPerAddress: 2 });
    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(await open(ws, { "x-forwarded-for": `10.9.4.${100 + i}` }));
    }
    expect(results.map((r) => (r instanceof WebSocket ? 101 : r))).toEqual([
      101, 101, 429, 429, 429,
    ]);
    const refusals = events.filter((e) => e.event === "upgrade_rejected");
    expect(refusals.map((e) => [e.status, e.reason, e.address])).toEqual([
      [429, "address_limit", "127.0.0.1"],
      [429, "address_limit", "127.0.0.1"],
      [429, "address_limit", "127.0.0.1"],
    ]);
  });

  // nginx's idle timeout shortened to 1 s (the README's 60 s scaled down); X = 5 s, so the
  // client's own pings come too rarely and only keep-alive holds the connection.
  const shortTimeout = (config: string) =>
    replaceIn(
      replaceIn(config, "proxy_read_timeout 60s;", "proxy_read_timeout 1s;"),
      "proxy_send_timeout 60s;",
      "proxy_send_timeout 1s;",
    );

  it("keeps an idle connection past nginx's idle timeout with keepAliveIntervalMs below it", async () => {
    const { ws } = await demoBehindNginx(
      { trustProxy: 1, intervalMs: 5000, keepAliveIntervalMs: 400 },
      shortTimeout,
    );
    const client = (await open(ws)) as WebSocket; // sends nothing; ws answers pings with pongs
    let closedAt: number | undefined;
    client.once("close", () => {
      closedAt = Date.now();
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(closedAt).toBeUndefined();
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it("without keep-alive nginx cuts the same idle connection at its timeout", async () => {
    const { ws } = await demoBehindNginx({ trustProxy: 1, intervalMs: 5000 }, shortTimeout);
    const client = (await open(ws)) as WebSocket;
    const opened = Date.now();
    const code = await new Promise<number>((resolve) => client.once("close", resolve));
    const after = Date.now() - opened;
    expect(code).toBe(1006); // cut, no close frame
    expect(after).toBeGreaterThanOrEqual(900);
    expect(after).toBeLessThan(2500);
  });

  it("refuses the dashboard and /metrics through the proxy without the token, forged headers or not", async () => {
    const token = "nginx-test-ops-token-0123456789";
    const { nginx } = await demoBehindNginx({ trustProxy: 1, opsToken: token });
    for (const path of ["/dashboard/", "/dashboard/connections", "/metrics"]) {
      expect((await fetch(`${nginx.origin}${path}`)).status).toBe(401);
      const forged = { "x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1" };
      expect((await fetch(`${nginx.origin}${path}`, { headers: forged })).status).toBe(401);
      const authorized = { authorization: `Bearer ${token}` };
      expect((await fetch(`${nginx.origin}${path}`, { headers: authorized })).status).toBe(200);
    }
  });

  it("answers 404 for the dashboard and /metrics through the proxy when no token is set", async () => {
    const { nginx } = await demoBehindNginx({ trustProxy: 1 });
    expect((await fetch(`${nginx.origin}/dashboard/`)).status).toBe(404);
    expect((await fetch(`${nginx.origin}/metrics`)).status).toBe(404);
  });
});

// The demo's development-only dashboard authorization, and the mount.
import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../echo-server.js";
import { fromLoopback } from "../observability.js";

const request = (remoteAddress: string | undefined) =>
  ({ socket: { remoteAddress } }) as unknown as IncomingMessage;

describe("fromLoopback (the demo's dashboard authorization)", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["10.0.0.1", false],
    ["192.168.1.20", false],
    ["::ffff:10.0.0.1", false],
    ["fe80::1", false],
    ["1270.0.0.1", false],
    [undefined, false],
  ])("%s → %s", (address, allowed) => {
    expect(fromLoopback(request(address))).toBe(allowed);
  });
});

describe("the demo's /dashboard", () => {
  const servers: EchoServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it("serves the page to a loopback client, next to the demo's own routes", async () => {
    const server = await startEchoServer({ port: 0 });
    servers.push(server);
    const page = await fetch(new URL("/dashboard/", server.url));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Heartline operations");
    const table = await (await fetch(new URL("/dashboard/connections", server.url))).json();
    expect(table).toMatchObject({ total: 0, page: 0, rows: [] });
    expect((await fetch(new URL("/ws", server.url))).status).toBe(426);
  });
});

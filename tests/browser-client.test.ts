// @heartline/client in headless Chromium, bundled for the browser as an app
// would (esbuild, the client's source), against a real @heartline/server on
// 127.0.0.1:0: one socket for React StrictMode's connect/close/connect, no
// attempts while offline (`context.setOffline`) and one at once on `online`,
// and what a browser can and cannot know of an auth refusal (4401 yes, 401
// no). Every wait is on a page condition with a bounded timeout; the offline
// stretch is the one deliberate wall-clock wait, and what it caused is
// counted after it.
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createServer, credentialsOf, type HeartlineServer } from "@heartline/server";
import { build } from "esbuild";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, skipBrowserTests } from "./support/chromium.js";

const WAIT_MS = 10_000;
const entry = fileURLToPath(new URL("../packages/client/src/index.ts", import.meta.url));

let browser: Browser;
let bundle: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

interface Served {
  origin: string;
  hl: HeartlineServer<unknown, unknown, unknown>;
  /** Upgrade requests that reached the server, accepted or not. */
  upgrades: number;
}

/** An HTTP server with the page, the client bundle and a Heartline server on /ws. */
async function serve(options: { closeUnauthorized?: boolean; authenticate?: boolean } = {}) {
  const http: Server = createHttpServer((request, response) => {
    if (request.url === "/client.js") {
      response.writeHead(200, { "Content-Type": "text/javascript" });
      response.end(bundle);
      return;
    }
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end(
      '<!doctype html><script type="module">import * as hl from "/client.js"; window.hl = hl; window.ready = true;</script>',
    );
  });
  const served = { upgrades: 0 } as Served;
  http.on("upgrade", () => served.upgrades++);
  served.hl = createServer<unknown, unknown, unknown>({
    server: http,
    intervalMs: 1000,
    ...(options.authenticate ? { authenticate: (r) => credentialsOf(r) === "good" || false } : {}),
    ...(options.closeUnauthorized ? { closeUnauthorized: true } : {}),
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  served.origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    await served.hl.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return served;
}

async function openPage(
  origin: string,
): Promise<{ page: Page; context: BrowserContext; sockets: string[] }> {
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto(origin);
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true, undefined, {
    timeout: WAIT_MS,
  });
  return { page, context, sockets };
}

/** In the page: a client on /ws with `options`, its events recorded on `window.log`. */
async function startClient(page: Page, options: Record<string, unknown>, connect = true) {
  await page.evaluate(
    ([options, connect]) => {
      const w = window as unknown as {
        hl: typeof import("../packages/client/src/index.js");
        client: ReturnType<typeof import("../packages/client/src/index.js").createClient>;
        log: Array<[string, unknown]>;
      };
      w.log = [];
      w.client = w.hl.createClient({ url: `ws://${location.host}/ws`, ...options });
      for (const name of ["state", "open", "disconnect", "error"] as const) {
        w.client.on(name, (payload) =>
          w.log.push([name, name === "error" ? (payload as { code: string }).code : payload]),
        );
      }
      if (connect) w.client.connect();
    },
    [options, connect] as const,
  );
}

const waitFor = (page: Page, fn: string) =>
  page.waitForFunction(fn, undefined, { timeout: WAIT_MS, polling: 20 });

describe.skipIf(skipBrowserTests)("@heartline/client in Chromium", () => {
  beforeAll(async () => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["heartline-source"],
      write: false,
      logLevel: "error",
    });
    bundle = result.outputFiles[0]!.text;
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("StrictMode's connect, close, connect in one tick opens one socket", async () => {
    const served = await serve();
    const { page, sockets } = await openPage(served.origin);
    await startClient(page, {}, false);
    await page.evaluate(() => {
      const { client } = window as unknown as { client: { connect(): void; close(): void } };
      client.connect(); // mount
      client.close(); // StrictMode's unmount
      client.connect(); // mount again
    });
    await waitFor(page, "window.client.getSnapshot().state === 'open'");
    expect(sockets).toHaveLength(1);
    expect(served.upgrades).toBe(1);
  });

  it("makes no attempt while offline, and one at once when the network is back", async () => {
    const served = await serve();
    const { page, context, sockets } = await openPage(served.origin);
    // A quick schedule: without the offline pause it would try every 100 ms.
    await startClient(page, { reconnect: { baseMs: 100, capMs: 100 } });
    await waitFor(page, "window.client.getSnapshot().state === 'open'");
    await context.setOffline(true);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    // The server ends the connection: the client is offline when it learns.
    for (const connection of served.hl.connections()) connection.close(4500, "test");
    await waitFor(page, "window.client.getSnapshot().state === 'reconnecting'");
    const socketsBefore = sockets.length;
    // The deliberate wall-clock wait: a second and a half offline, ~15 retries' worth…
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // …and what it did: no attempt at all.
    expect(sockets.length).toBe(socketsBefore);
    expect(
      await page.evaluate(
        () =>
          (
            window as unknown as { client: { getSnapshot(): { retryAt?: number } } }
          ).client.getSnapshot().retryAt,
      ),
    ).toBeUndefined();
    const backAt = Date.now();
    await context.setOffline(false);
    await waitFor(page, "window.client.getSnapshot().state === 'open'");
    expect(sockets.length).toBe(socketsBefore + 1);
    expect(Date.now() - backAt).toBeLessThan(WAIT_MS);
  });

  it("sees 4401 from a server set to closeUnauthorized: fresh credentials once, then unauthorized", async () => {
    const served = await serve({ authenticate: true, closeUnauthorized: true });
    const { page } = await openPage(served.origin);
    await page.evaluate(() => {
      const w = window as unknown as { calls: number };
      w.calls = 0;
    });
    await startClient(page, { reconnect: { baseMs: 50 } }, false);
    await page.evaluate(() => {
      const w = window as unknown as {
        hl: typeof import("../packages/client/src/index.js");
        client: ReturnType<typeof import("../packages/client/src/index.js").createClient>;
        log: Array<[string, unknown]>;
        calls: number;
      };
      w.client = w.hl.createClient({
        url: `ws://${location.host}/ws`,
        credentials: async () => `stale${++w.calls}`,
        reconnect: { baseMs: 50 },
      });
      w.client.on("disconnect", (d) => w.log.push(["disconnect", d]));
      w.client.connect();
    });
    await waitFor(page, "window.client.getSnapshot().state === 'closed'");
    const log = await page.evaluate(() => (window as unknown as { log: unknown[] }).log);
    expect(log).toEqual([
      [
        "disconnect",
        expect.objectContaining({ reason: "unauthorized", code: 4401, willReconnect: true }),
      ],
      [
        "disconnect",
        { reason: "unauthorized", code: 4401, willReconnect: false, willResume: false },
      ],
    ]);
    expect(await page.evaluate(() => (window as unknown as { calls: number }).calls)).toBe(2);
  });

  it("cannot see a plain 401: a browser reports it as connection_lost 1006 (why closeUnauthorized exists)", async () => {
    const served = await serve({ authenticate: true });
    const { page } = await openPage(served.origin);
    await startClient(page, { credentials: "stale", reconnect: false });
    await waitFor(page, "window.client.getSnapshot().state === 'closed'");
    const log = await page.evaluate(
      () => (window as unknown as { log: Array<[string, unknown]> }).log,
    );
    expect(log.filter(([name]) => name === "disconnect")).toEqual([
      [
        "disconnect",
        { reason: "connection_lost", code: 1006, willReconnect: false, willResume: false },
      ],
    ]);
  });
});

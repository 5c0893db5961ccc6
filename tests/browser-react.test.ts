// @heartline/react in real Chromium under StrictMode (issue 23 point 4): the
// test app (tests/fixtures/react-app/app.ts, React's development build,
// bundled with esbuild) against a real Heartline server on port 0. StrictMode
// mounts, unmounts and mounts again: one socket, no Chrome warning. Four hot
// updates that each make a new client: one live connection. Every wait is on
// a page condition or a server event, bounded.
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createServer, type HeartlineServer } from "@heartline/server";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, skipBrowserTests } from "./support/chromium.js";

const WAIT_MS = 10_000;
const entry = fileURLToPath(new URL("./fixtures/react-app/app.ts", import.meta.url));

let browser: Browser;
let script: string;
const cleanups: Array<() => Promise<unknown>> = [];

/** A page server and a Heartline server on one port: `/` is the app, `/ws` the socket. */
async function startServer(): Promise<{
  url: string;
  heartline: HeartlineServer;
  connected: string[];
}> {
  const http: Server = createHttpServer((_request, response) => {
    const body = `<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module">${script}</script>`;
    response.writeHead(200, { "content-type": "text/html" }).end(body);
  });
  const connected: string[] = [];
  const heartline = createServer({
    server: http,
    path: "/ws",
    intervalMs: 1000,
    on: {
      connection: (conn) => connected.push(conn.sessionId),
      message: (conn, data) => conn.send(`echo: ${String(data)}`),
    },
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await heartline.close();
    await new Promise((resolve) => http.close(resolve));
  });
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, heartline, connected };
}

/** Opens `url`, recording each WebSocket the page makes and every console line. */
async function open(url: string) {
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const sockets: Array<{ closed: boolean }> = [];
  const console: string[] = [];
  const errors: string[] = [];
  page.on("console", (message) => console.push(message.text()));
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("websocket", (ws) => {
    const socket = { closed: false };
    sockets.push(socket);
    ws.on("close", () => {
      socket.closed = true;
    });
  });
  await page.goto(url);
  return { page, sockets, console, errors };
}

async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => document.getElementById("status")?.textContent === s, state, {
    timeout: WAIT_MS,
    polling: 20,
  });
}

const openConnections = (heartline: HeartlineServer): number => heartline.stats().open;

describe.skipIf(skipBrowserTests)("@heartline/react in Chromium, under StrictMode", () => {
  beforeAll(async () => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["heartline-source"],
      // React's development build: the one where StrictMode double-mounts.
      define: { "process.env.NODE_ENV": '"development"' },
      write: false,
      logLevel: "error",
    });
    script = result.outputFiles[0]!.text.replaceAll("</script", "<\\/script");
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("opens one socket for StrictMode's mount, unmount and mount, with no warning", async () => {
    const { url, heartline, connected } = await startServer();
    const { page, sockets, console, errors } = await open(url);
    await waitForState(page, "open");
    expect(sockets).toEqual([{ closed: false }]);
    expect(connected).toHaveLength(1);
    expect(openConnections(heartline)).toBe(1);
    expect(console.filter((line) => /closed before the connection/.test(line))).toEqual([]);
    expect(errors).toEqual([]);
    // The hooks work end to end: send through useHeartlineSend, the echo in useHeartlineMessages.
    await page.click("#send");
    await page.waitForFunction(
      () => document.querySelector("#messages li")?.textContent === "echo: ping from react",
      undefined,
      { timeout: WAIT_MS, polling: 20 },
    );
  });

  it("keeps one live connection across four hot updates that each make a new client", async () => {
    const { url, heartline, connected } = await startServer();
    const { page, sockets } = await open(`${url}?mode=client`);
    await waitForState(page, "open");
    for (let update = 1; update <= 4; update++) {
      await page.evaluate(() => window.hotUpdate());
      await expect
        .poll(() => connected.length, { timeout: WAIT_MS, interval: 20 })
        .toBe(update + 1);
      // The page shows the new client's session, open.
      await page.waitForFunction(
        (id) => {
          const status = document.getElementById("status");
          return status?.textContent === "open" && status.dataset.session === id;
        },
        connected.at(-1),
        { timeout: WAIT_MS, polling: 20 },
      );
      await expect
        .poll(() => openConnections(heartline), { timeout: WAIT_MS, interval: 20 })
        .toBe(1);
    }
    await expect
      .poll(() => sockets.filter((s) => !s.closed).length, { timeout: WAIT_MS, interval: 20 })
      .toBe(1);
    expect(sockets).toHaveLength(5);
  });
});

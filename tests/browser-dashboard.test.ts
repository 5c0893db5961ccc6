// @heartline/dashboard in headless Chromium, mounted by the echo demo at
// /dashboard/: real traffic (Heartline clients reporting their RTT, a silent
// client the server times out, a refused origin) must show on the page.
// Every wait is on a page condition or a server event, with a bound.
import { createClient, type HeartlineClient } from "@heartline/client";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type EchoEvent, type EchoServer, startEchoServer } from "../examples/echo/echo-server.js";
import { launchChromium, skipBrowserTests } from "./support/chromium.js";

/** X: short, so the silent client is timed out (at 2X) within a second. */
const INTERVAL_MS = 100;
const WAIT_MS = 10_000;

let browser: Browser;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  if (!skipBrowserTests) browser = await launchChromium();
}, 30_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function text(page: Page, selector: string, expected: string): Promise<void> {
  await page.waitForFunction(
    ([s, e]) => document.querySelector(s!)?.textContent?.trim() === e,
    [selector, expected],
    { timeout: WAIT_MS, polling: 20 },
  );
}

const OPS_TOKEN = "dashboard-test-token-0123456789";

describe.skipIf(skipBrowserTests)("the dashboard in Chromium", () => {
  it("shows connections, a timeout with its lateness, RTT and a refused origin, live", async () => {
    const events: EchoEvent[] = [];
    const waiters: Array<() => void> = [];
    const echo: EchoServer = await startEchoServer({
      port: 0,
      intervalMs: INTERVAL_MS,
      allowedOrigins: ["http://allowed.example"],
      opsToken: OPS_TOKEN,
      on: {
        connect: (e) => events.push(e),
        disconnect: (e) => {
          events.push(e);
          for (const w of waiters.splice(0)) w();
        },
      },
    });
    cleanups.push(() => echo.close());
    const ws = `${echo.url.replace(/^http/, "ws")}ws`;

    const page = await browser.newPage({
      viewport: { width: 1280, height: 1000 },
      // The demo's dashboard is off without its token (Basic, as a browser sends it once asked).
      httpCredentials: { username: "ops", password: OPS_TOKEN },
    });
    cleanups.push(() => page.close());
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    // CSP violations and failed loads are console errors.
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    await page.goto(new URL("/dashboard", echo.url).href); // redirected to /dashboard/
    expect(new URL(page.url()).pathname).toBe("/dashboard/");
    await text(page, "#status", "live");
    await text(page, "#open", "0");
    expect(echo.dashboard!.watching).toBe(true);

    // Two well-behaved clients that report their heartbeat RTT.
    const clients: HeartlineClient[] = [];
    for (let i = 0; i < 2; i++) {
      const client = createClient({ url: ws });
      client.on("pong", ({ rttMs }) => void client.send({ heartlineRttMs: rttMs }));
      client.connect();
      clients.push(client);
      cleanups.push(() => client.close());
    }
    // One silent client: the server closes it at 2X.
    const silent = new WebSocket(ws, "heartline.v1");
    silent.on("error", () => {});
    cleanups.push(() => silent.terminate());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no timeout reported")), WAIT_MS);
      const check = () => {
        if (events.some((e) => e.event === "disconnect" && e.reason === "timeout")) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
    // One refused origin.
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(ws, "heartline.v1", {
        headers: { origin: "http://evil.example" },
      });
      socket.on("error", () => {});
      socket.once("unexpected-response", (_request, response) =>
        resolve(response.statusCode ?? -1),
      );
    });
    expect(refused).toBe(403);

    await text(page, "#open", "2");
    await text(page, "#total-timeout", "1");
    await text(page, '#disconnect-totals li[data-reason="timeout"] b', "1");
    await text(page, "#lateness-count", "1");
    await text(page, "#total-rejected", "1");
    await text(page, '#rejected-totals li[data-status="403"] b', "1");
    await page.waitForFunction(
      () => document.getElementById("rtt-note")?.textContent?.includes("reports"),
      undefined,
      {
        timeout: WAIT_MS,
        polling: 20,
      },
    );
    // The table lists exactly the two open connections, by session id.
    const open = events.filter((e) => e.event === "connect").map((e) => e.sessionId);
    const gone = new Set(events.filter((e) => e.event === "disconnect").map((e) => e.sessionId));
    const expected = open.filter((id) => !gone.has(id)).sort();
    expect(expected).toHaveLength(2);
    await page.waitForFunction(
      (ids) => {
        const rows = [...document.querySelectorAll("#connections tbody tr")] as HTMLElement[];
        return JSON.stringify(rows.map((r) => r.dataset.session).sort()) === JSON.stringify(ids);
      },
      expected,
      { timeout: WAIT_MS, polling: 20 },
    );
    const row = await page.$eval("#connections tbody tr", (tr) =>
      [...tr.querySelectorAll("td")].map((td) => td.textContent),
    );
    expect(row[1]).toBe("127.0.0.1");
    expect(row[2]).toMatch(/^\d+\.\d s$/);
    expect(row[3]).toMatch(/ ago$/);
    // Every chart was drawn by uPlot.
    for (const id of ["open", "disconnects", "lateness", "rtt", "rejected"]) {
      expect(await page.$$eval(`#chart-${id} canvas`, (c) => c.length)).toBe(1);
    }
    expect(problems).toEqual([]);

    // The viewer leaves: sampling stops.
    await page.close();
    const started = Date.now();
    while (echo.dashboard!.watching && Date.now() - started < WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(echo.dashboard!.watching).toBe(false);
  });
});

// Takes the README's screenshot of the page (examples/echo/screenshot.png) in
// headless Chromium: connect, two echoes, heartbeats paused until the server
// closes with 4000, the reconnect, and heartbeats resumed. Run it with
//   node --import tsx --conditions heartline-source examples/echo/screenshot.ts
import { fileURLToPath } from "node:url";
import { launchChromium } from "../../tests/support/chromium.js";
import { buildPage } from "./build-page.js";
import { startEchoServer } from "./echo-server.js";

const output = fileURLToPath(new URL("./screenshot.png", import.meta.url));
const WAIT = { timeout: 15_000, polling: 50 };

await buildPage();
const server = await startEchoServer({ port: 0, intervalMs: 1000 });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  await page.goto(server.url);
  await page.click("#connect");
  await page.waitForFunction(
    () => document.getElementById("status")?.textContent === "open",
    undefined,
    WAIT,
  );
  for (const text of ["Hello, Heartline", "Is anyone listening?"]) {
    await page.fill("#message", text);
    await page.click("#send");
  }
  await page.check("#pause-heartbeats");
  // The server's verdict on the silent client, then the reconnect.
  await page.waitForSelector('#log li[data-kind="reconnect"]', WAIT);
  await page.waitForFunction(
    () => document.querySelectorAll('#log li[data-kind="open"]').length === 2,
    undefined,
    WAIT,
  );
  await page.uncheck("#pause-heartbeats");
  await page.waitForFunction(
    () => document.getElementById("hb-rtt")?.textContent !== "–",
    undefined,
    WAIT,
  );
  await page.screenshot({ path: output, fullPage: true });
  process.stderr.write(`screenshot: ${output}\n`);
} finally {
  await browser.close();
  await server.close();
}

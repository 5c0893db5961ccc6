// Takes the README's screenshot of the dashboard (packages/dashboard/screenshot.png)
// in headless Chromium, on the echo demo with real traffic: clients that
// report their RTT, silent clients timed out, refused origins. Run it with
//   node --import tsx --conditions heartline-source packages/dashboard/screenshot.ts
import { fileURLToPath } from "node:url";
import { createClient } from "@heartline/client";
import { WebSocket } from "ws";
import { startEchoServer } from "../../examples/echo/echo-server.js";
import { launchChromium } from "../../tests/support/chromium.js";

const output = fileURLToPath(new URL("./screenshot.png", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const echo = await startEchoServer({
  port: 0,
  intervalMs: 500,
  allowedOrigins: ["http://localhost"],
});
const ws = `${echo.url.replace(/^http/, "ws")}ws`;
const browser = await launchChromium();
const clients: Array<{ close(): void }> = [];
const sockets: WebSocket[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await page.goto(new URL("/dashboard/", echo.url).href);
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 6; i++) {
      const client = createClient({ url: ws });
      client.on("pong", ({ rttMs }) => client.send({ heartlineRttMs: rttMs }));
      client.connect();
      clients.push(client);
    }
    // Silent clients (no pings): the server times them out after 1 s.
    for (let i = 0; i < 2 + (round % 3); i++) {
      sockets.push(new WebSocket(ws, "heartline.v1"));
    }
    if (round % 2 === 0) {
      const refused = new WebSocket(ws, "heartline.v1", {
        headers: { origin: "http://evil.example" },
      });
      refused.on("error", () => {});
    }
    if (round > 6) for (const c of clients.splice(0, 3)) c.close();
    await sleep(700);
  }
  await sleep(1200);
  await page.screenshot({ path: output });
  process.stderr.write(`screenshot: ${output}\n`);
} finally {
  for (const c of clients) c.close();
  for (const s of sockets) s.terminate();
  await browser.close();
  await echo.close();
}

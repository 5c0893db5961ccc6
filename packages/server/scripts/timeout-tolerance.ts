// Measures how late after its deadline a `timeout` disconnect is reported,
// with the real clock. Clients (in this same process, which adds load) ping
// for a while at random offsets, then fall silent; for each report we take
// now − (lastSeenAt + timeoutMs).
//   npx tsx --conditions heartline-source packages/server/scripts/timeout-tolerance.ts [clients] [intervalMs]
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { createServer } from "../src/index.js";

const clients = Number(process.argv[2] ?? 1000);
const intervalMs = Number(process.argv[3] ?? 200);
const timeoutMs = 2 * intervalMs;

const late: number[] = [];
const hl = createServer({
  port: 0,
  host: "127.0.0.1",
  intervalMs,
  on: {
    disconnect: (info) => {
      if (info.reason === "timeout") late.push(Date.now() - (info.lastSeenAt + timeoutMs));
    },
  },
});
await hl.listening;
const url = `ws://127.0.0.1:${(hl.address() as AddressInfo).port}/ws`;

const sockets: WebSocket[] = [];
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(url, "heartline.v1");
  ws.on("error", () => {});
  sockets.push(ws);
  await new Promise((resolve) => ws.once("open", resolve));
}
// Each client pings a few times at its own offset, then goes silent.
await Promise.all(
  sockets.map(async (ws, i) => {
    await new Promise((r) => setTimeout(r, (i * 7) % intervalMs));
    for (let seq = 0; seq < 3; seq++) {
      ws.send(`{"type":"ping","seq":${seq}}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }),
);
const started = Date.now();
while (late.length < clients && Date.now() - started < 10 * timeoutMs) {
  await new Promise((r) => setTimeout(r, 20));
}
late.sort((a, b) => a - b);
const pick = (q: number) => late[Math.min(late.length - 1, Math.floor(q * late.length))];
console.log(
  JSON.stringify({
    clients,
    intervalMs,
    timeoutMs,
    reports: late.length,
    minMs: late[0],
    p50Ms: pick(0.5),
    p99Ms: pick(0.99),
    maxMs: late.at(-1),
  }),
);
for (const ws of sockets) ws.terminate();
await hl.close();

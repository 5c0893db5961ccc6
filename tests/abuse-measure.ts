// Issue 15 measurement (not a CI test): the connection ramp and non-reading
// clients, against one standalone server in this process (clients too: the
// figures include the clients' own cost on the same cores; say so).
//   npx tsx --conditions heartline-source tests/abuse-measure.ts [ramp=20000] [nonReaders=200]
// Prints one JSON line per part.

import type { AddressInfo } from "node:net";
import net from "node:net";
import { createClient } from "@heartline/client";
import { SUBPROTOCOL } from "@heartline/protocol";
import { createServer } from "@heartline/server";
import WebSocket from "ws";

const ramp = Number(process.argv[2] ?? 20_000);
const nonReaders = Number(process.argv[3] ?? 200);
const intervalMs = 1000;
const disconnects: { code?: number | undefined; sessionId: string }[] = [];
const hl = createServer({
  port: 0,
  host: "127.0.0.1",
  intervalMs,
  on: { disconnect: (d) => disconnects.push(d) },
});
await hl.listening;
const { port } = hl.address() as AddressInfo;
const url = `ws://127.0.0.1:${port}/ws`;

// Healthy clients first: they must never be closed 4000 while the ramp runs.
const healthy = Array.from({ length: 20 }, () => createClient({ url }));
const healthyIds = new Set<string>();
await Promise.all(
  healthy.map(
    (c) =>
      new Promise<void>((resolve) => {
        c.on("open", ({ sessionId }) => {
          healthyIds.add(sessionId);
          resolve();
        });
        c.connect();
      }),
  ),
);

// The ramp: `ramp` connections as fast as they open (64 in flight), each held and pinging.
const started = Date.now();
const held: WebSocket[] = [];
let failed = 0;
let next = 0;
const open1 = (): Promise<void> =>
  new Promise((resolve) => {
    const ws = new WebSocket(url, SUBPROTOCOL);
    ws.on("error", () => {
      failed++;
      resolve();
    });
    ws.once("message", () => {
      held.push(ws);
      let seq = 0;
      const t = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(`{"type":"ping","seq":${++seq}}`);
        else clearInterval(t);
      }, intervalMs);
      resolve();
    });
  });
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next++ < ramp) await open1();
  }),
);
const rampMs = Date.now() - started;
const welcomeStart = Date.now();
const fresh = createClient({ url });
await new Promise<void>((resolve) => {
  fresh.on("open", () => resolve());
  fresh.connect();
});
const freshWelcomeMs = Date.now() - welcomeStart;
await new Promise((r) => setTimeout(r, 3 * intervalMs));
const healthy4000 = disconnects.filter(
  (d) => healthyIds.has(d.sessionId) && d.code === 4000,
).length;
const all4000 = disconnects.filter((d) => d.code === 4000).length;
console.log(
  JSON.stringify({
    part: "ramp",
    ramp,
    opened: held.length,
    failed,
    rampMs,
    freshWelcomeMs,
    healthyClosed4000: healthy4000,
    anyClosed4000: all4000,
    open: hl.stats().open,
  }),
);
for (const ws of held) ws.terminate();
fresh.close();
await new Promise((r) => setTimeout(r, 2000));

// Non-readers: handshake, then never read, while the server broadcasts 16 KiB every 10 ms.
global.gc?.();
const rssBefore = process.memoryUsage().rss;
const rawKey = Buffer.from("measure-key-0001").toString("base64");
const sockets: net.Socket[] = [];
for (let i = 0; i < nonReaders; i++) {
  sockets.push(
    await new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () =>
        s.write(
          `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${rawKey}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${SUBPROTOCOL}\r\n\r\n`,
        ),
      );
      s.on("error", () => {});
      s.once("data", () => {
        s.pause();
        const ping = Buffer.from('{"type":"ping","seq":1}');
        const frame = Buffer.concat([Buffer.from([0x81, 0x80 | ping.length, 0, 0, 0, 0]), ping]);
        const t = setInterval(
          () => (s.writable ? s.write(frame) : clearInterval(t)),
          intervalMs / 2,
        );
        resolve(s);
      });
    }),
  );
}
const rtts: number[] = [];
for (const c of healthy) c.on("pong", ({ rttMs }) => rtts.push(rttMs));
const chunk = "x".repeat(16 * 1024);
let peakRss = 0;
let peakOutbound = 0;
const until = Date.now() + 6000;
await new Promise<void>((resolve) => {
  const t = setInterval(() => {
    hl.broadcast(chunk);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakOutbound = Math.max(peakOutbound, hl.stats().outboundBufferedBytes);
    if (Date.now() > until) {
      clearInterval(t);
      resolve();
    }
  }, 10);
});
rtts.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    part: "non-readers",
    nonReaders,
    rssBeforeMB: Math.round(rssBefore / 1e6),
    peakRssMB: Math.round(peakRss / 1e6),
    peakOutboundBufferedMB: Math.round(peakOutbound / 1e5) / 10,
    shed1013: disconnects.filter((d) => d.code === 1013).length,
    healthyPongs: rtts.length,
    healthyPongP99Ms: rtts[Math.floor(rtts.length * 0.99)] ?? null,
    healthyPongMaxMs: rtts.at(-1) ?? null,
  }),
);
for (const s of sockets) s.destroy();
for (const c of healthy) c.close();
await hl.close();
process.exit(0);

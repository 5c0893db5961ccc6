// Issue 15, the non-reading clients probe over real sockets: clients that
// complete the handshake and then never read, while the server broadcasts.
// Before the total budget, 200 of them took RSS from 201 to 434 MB and kept
// healthy clients from a pong for seconds. Now: the outbound total stays
// within `maxBufferedBytesTotal`, every non-reader is shed once with 1013, and
// the healthy clients keep every pong under 100 ms. Bounded: 40 non-readers,
// 5 healthy clients, about 2 s of broadcasting.

import type { AddressInfo } from "node:net";
import net from "node:net";
import { createClient, type HeartlineClient } from "@heartline/client";
import { CloseCode, DisconnectReason, SUBPROTOCOL } from "@heartline/protocol";
import { createServer, type DisconnectInfo, type HeartlineServer } from "@heartline/server";
import { afterAll, describe, expect, it } from "vitest";
import { nextEvent } from "./support/client-events.js";
import { report } from "./support/measure.js";
import { within } from "./support/raw-client.js";

const intervalMs = 200; // X
const nonReaders = 40;
const healthy = 5;
const budget = 2 * 1024 * 1024; // maxBufferedBytesTotal
const broadcastMs = 2000;
const PONG_BOUND_MS = 100;

/** A masked client text frame (mask key 0: the payload goes as written). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/**
 * Handshakes by hand, then stops reading once the 101 (and welcome) arrived,
 * but keeps pinging (so it is not timed out): it is alive, and its buffers fill.
 */
function nonReader(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${Buffer.from("non-reader-key!!").toString("base64")}\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${SUBPROTOCOL}\r\n\r\n`,
      );
    });
    socket.once("data", (chunk) => {
      if (!chunk.toString("latin1").startsWith("HTTP/1.1 101")) reject(new Error("not upgraded"));
      socket.pause();
      let seq = 0;
      const pinging = setInterval(() => {
        if (socket.destroyed || !socket.writable) clearInterval(pinging);
        else socket.write(clientFrame(`{"type":"ping","seq":${++seq}}`));
      }, intervalMs / 2);
      socket.once("close", () => clearInterval(pinging));
      resolve(socket);
    });
  });
}

describe("clients that never read, against the total outbound budget", () => {
  let hl: HeartlineServer | undefined;
  const sockets: net.Socket[] = [];
  const clients: HeartlineClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of sockets) s.destroy();
    await hl?.close();
  });

  it(`stays within maxBufferedBytesTotal, sheds each non-reader once with 1013, healthy pongs < ${PONG_BOUND_MS} ms`, async () => {
    const disconnects: DisconnectInfo<undefined>[] = [];
    hl = createServer({
      port: 0,
      host: "127.0.0.1",
      intervalMs,
      maxBufferedBytesTotal: budget,
      on: { disconnect: (d) => disconnects.push(d) },
    });
    await hl.listening;
    const { port } = hl.address() as AddressInfo;
    for (let i = 0; i < nonReaders; i++) sockets.push(await nonReader(port));

    const rtts: number[] = [];
    const opened = [];
    for (let i = 0; i < healthy; i++) {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/ws`,
        on: { pong: ({ rttMs }) => rtts.push(rttMs) },
      });
      clients.push(client);
      opened.push(nextEvent(client, "open"));
      client.connect();
    }
    const healthyIds = new Set((await Promise.all(opened)).map((o) => o.payload.sessionId));
    const rssBefore = process.memoryUsage().rss;

    const chunk = "x".repeat(16 * 1024);
    let peakTotal = 0;
    const started = Date.now();
    await within(
      new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          hl?.broadcast(chunk);
          peakTotal = Math.max(peakTotal, hl?.stats().outboundBufferedBytes ?? 0);
          if (Date.now() - started >= broadcastMs) {
            clearInterval(timer);
            resolve();
          }
        }, 10);
      }),
      broadcastMs + 5000,
      "the broadcasts",
    );
    const shed = () => disconnects.filter((d) => !healthyIds.has(d.sessionId));
    // A non-reader whose kernel buffers never filled is not shed yet: keep sending until each one is.
    await within(
      new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          hl?.broadcast(chunk);
          peakTotal = Math.max(peakTotal, hl?.stats().outboundBufferedBytes ?? 0);
          if (shed().length >= nonReaders) {
            clearInterval(timer);
            resolve();
          }
        }, 10);
      }),
      5000,
      "every non-reader shed",
    );
    const rssAfter = process.memoryUsage().rss;

    expect(disconnects.map((d) => d.code).filter((c) => c !== CloseCode.TryAgainLater)).toEqual([]);
    expect(peakTotal).toBeGreaterThan(0);
    expect(peakTotal).toBeLessThanOrEqual(budget);
    expect(shed()).toHaveLength(nonReaders);
    expect(new Set(shed().map((d) => d.sessionId)).size).toBe(nonReaders);
    for (const d of shed()) {
      expect(d).toMatchObject({
        code: CloseCode.TryAgainLater,
        reason: DisconnectReason.ServerClosed,
      });
    }
    expect(disconnects.filter((d) => healthyIds.has(d.sessionId))).toEqual([]);
    expect(hl.stats().open).toBe(healthy);
    expect(rtts.length).toBeGreaterThanOrEqual(healthy * 5);
    expect(Math.max(...rtts)).toBeLessThan(PONG_BOUND_MS);
    report("non-readers", {
      nonReaders,
      healthy,
      budgetBytes: budget,
      peakOutboundBufferedBytes: peakTotal,
      pongs: rtts.length,
      maxPongMs: Math.max(...rtts),
      rssDeltaMB: Math.round((rssAfter - rssBefore) / 1e5) / 10,
      ms: Date.now() - started,
    });
  }, 20_000);
});

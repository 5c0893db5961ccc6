// Issue 26 (parts 2 and 3, node bench/scale.mjs): one Heartline worker of a
// multi-process server. Run by bench/servers/scale-primary.mjs through
// node:cluster (`setupPrimary({ exec })`), from the bundle bench/scale.mjs
// makes of this file. Sessions in Redis (`createRedisSessionStore`), presence
// over sessions (`attachPresence`), an echo of every application message.
//
// It attaches to an HTTP server of its own, so that it can stop accepting
// before it says goodbye: `http.close()` takes this worker out of the
// primary's round-robin at once, then `hl.close()` says goodbye and hands its
// sessions over to the survivors through Redis. (A standalone server keeps
// listening while it closes, refusing with 503: under round-robin the
// primary would keep handing it the very clients it just said goodbye to.)
//
// Environment: BENCH_TOPOLOGY cluster (every worker on one shared port) or
// ports (each worker on a port of its own: `exclusive`), BENCH_PORT (cluster:
// the shared port), REDIS_URL, BENCH_KEY_PREFIX, BENCH_INTERVAL_MS,
// BENCH_RECONNECT_MIN_MS / _MAX_MS (the goodbye window), BENCH_MAX_CONNECTIONS
// (the descriptor guard), BENCH_WINDOW_MS (resume window).
//
// IPC (from the primary), beyond servers/common.mjs: {type:"close"} → goodbye,
// hand-off, {type:"closed", ms, sessionsHeld} and exit 0.
import { createServer as createHttpServer } from "node:http";
import { DisconnectReason } from "@heartline/protocol";
import { attachPresence, createRedisSessionStore } from "@heartline/redis";
import { createServer } from "@heartline/server";
import { Redis } from "ioredis";
import { announceReady, host, intervalMs } from "./common.mjs";

const topology = process.env.BENCH_TOPOLOGY ?? "cluster";
const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 120_000);
const keyPrefix = process.env.BENCH_KEY_PREFIX ?? "hl-scale:";
const maxConnections = Number(process.env.BENCH_MAX_CONNECTIONS ?? Number.POSITIVE_INFINITY);
const reconnectWindow = {
  minMs: Number(process.env.BENCH_RECONNECT_MIN_MS ?? 1000),
  maxMs: Number(process.env.BENCH_RECONNECT_MAX_MS ?? 10_000),
};

const counts = {
  open: 0,
  connections: 0,
  resumed: 0,
  timeouts: 0,
  /** Disconnects of live clients that were not timeouts nor the shutdown (should stay 0). */
  otherDisconnects: {},
  echoed: 0,
  refused: 0,
  rejected: {},
  sessionEnds: {},
  movedAway: 0,
  movedUndelivered: 0,
  adopted: 0,
  storeErrors: {},
  presenceErrors: 0,
  errors: {},
};
const lateness = [];
/** Per timeout: [sessionId, lastHeardAt, reported at], epoch ms (bench/lib/decompose.mjs). */
const timedOut = [];
const bump = (map, key) => {
  map[key] = (map[key] ?? 0) + 1;
};

const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
redis.on("error", () => {});
await new Promise((resolve) => redis.once("ready", resolve));
const store = createRedisSessionStore({
  redis,
  keyPrefix: `${keyPrefix}s:`,
  onError: (error) => bump(counts.storeErrors, error.code),
});

const http = createHttpServer();
let closing = false;
const hl = createServer({
  server: http,
  intervalMs,
  maxConnections,
  reconnectWindow,
  // The load stands in for 100,000 clients from a handful of loopback addresses
  // (≤ 18,000 each): the per-address bound on waiting sessions (default 1,000,
  // a hundredth of the table) would evict most sessions a goodbye leaves
  // waiting. A deployment behind a NAT raises it the same way (server README).
  resume: { windowMs, store, maxWaitingPerAddress: 100_000 },
  on: {
    connection: () => {
      counts.open++;
      counts.connections++;
    },
    resumed: () => {
      counts.resumed++;
    },
    message: (conn, data) => {
      if (conn.send(data)) counts.echoed++;
      else counts.refused++;
    },
    disconnect: (info) => {
      counts.open--;
      if (info.reason === DisconnectReason.Timeout) {
        counts.timeouts++;
        const at = Date.now();
        lateness.push(at - info.lastHeardAt - 2 * intervalMs);
        timedOut.push([info.sessionId, info.lastHeardAt, at]);
      } else if (!closing) bump(counts.otherDisconnects, info.reason);
    },
    sessionEnd: (info) => bump(counts.sessionEnds, info.reason),
    sessionMoved: (info) => {
      counts.movedAway++;
      counts.movedUndelivered += info.undelivered.length;
    },
    sessionAdopted: () => {
      counts.adopted++;
    },
    upgradeRejected: (rejection) => bump(counts.rejected, rejection.reason),
    error: (error) => bump(counts.errors, error.code),
  },
});

// Presence follows sessions; with sessions in Redis they outlive this
// process, so orphans wait the resume window for a survivor (README).
const presence = await attachPresence(hl, {
  redis,
  keyPrefix: `${keyPrefix}p:`,
  identify: (conn) => conn.sessionId,
  orphanWindowMs: windowMs,
  on: {
    error: () => {
      counts.presenceErrors++;
    },
  },
});

await new Promise((resolve, reject) => {
  http.once("error", reject);
  http.listen(
    {
      port: topology === "cluster" ? Number(process.env.BENCH_PORT ?? 0) : 0,
      host,
      // ports: this worker's own socket, not the primary's shared one.
      exclusive: topology !== "cluster",
    },
    resolve,
  );
});

process.on("message", async (message) => {
  if (message?.type !== "close") return;
  const started = performance.now();
  const sessionsHeld = counts.open;
  closing = true;
  // Out of the round-robin first (do not wait: it resolves when every socket is gone).
  http.close();
  await hl.close();
  await presence.close();
  redis.disconnect();
  process.send({ type: "closed", ms: performance.now() - started, sessionsHeld, counts });
  process.exit(0);
});

announceReady({
  port: http.address().port,
  path: "/ws",
  getStats: () => ({
    pid: process.pid,
    ...counts,
    lateness,
    timedOut,
    sessions: hl.stats().sessions,
    store: store.stats?.(),
  }),
});

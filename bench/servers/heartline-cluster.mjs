// Issue 25's cost check (node bench/cluster-cost.mjs): an echo server with
// resumable sessions, kept in memory (BENCH_STORE=memory, the default store)
// or in Redis (BENCH_STORE=redis: `createRedisSessionStore` on REDIS_URL).
// Both sides run this one bundle, so the only difference is the store.
//
// The Redis link is counted from inside: every write to its socket is one
// round trip's request (ioredis writes a pipeline in one go), next to the
// commands Redis itself counts (INFO commandstats, read by the orchestrator).
//
// IPC, beyond servers/common.mjs: {type:"send-all", k} sends k messages to
// every session (attached or waiting) and answers {type:"sent-all", sent}.
import { createServer } from "@heartline/server";
import { announceReady, host, intervalMs } from "./common.mjs";

const storeKind = process.env.BENCH_STORE ?? "memory";
const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 120_000);
let echoed = 0;
let refused = 0;
let open = 0;
let resumed = 0;
let redisWrites = 0;
let redisWriteBytes = 0;
let storeErrors = 0;

let store;
let redis;
if (storeKind === "redis") {
  // Loaded only for this side, so the memory side carries nothing of Redis.
  const { Redis } = await import("ioredis");
  const { createRedisSessionStore } = await import("@heartline/redis");
  redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  await new Promise((resolve) => redis.once("ready", resolve));
  // Count every write to the command connection (not the store's Pub/Sub duplicate).
  const stream = redis.stream;
  const write = stream.write;
  stream.write = function countedWrite(chunk, ...rest) {
    redisWrites++;
    redisWriteBytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    return write.call(this, chunk, ...rest);
  };
  store = createRedisSessionStore({
    redis,
    nodeId: process.env.BENCH_NODE_ID ?? `bench-${process.pid}`,
    keyPrefix: process.env.BENCH_KEY_PREFIX ?? "hl-bench:",
    nodeTtlMs: Number(process.env.BENCH_NODE_TTL_MS ?? 3000),
    onError: () => {
      storeErrors++;
    },
  });
}

const server = createServer({
  port: 0,
  host,
  intervalMs,
  resume: { windowMs, ...(store ? { store } : {}) },
  on: {
    connection: () => {
      open++;
    },
    message: (conn, data) => {
      if (conn.send(data)) echoed++;
      else refused++;
    },
    disconnect: () => {
      open--;
    },
    resumed: () => {
      resumed++;
    },
  },
});

process.on("message", (message) => {
  if (message?.type !== "send-all") return;
  let sent = 0;
  const ids = [];
  for (const conn of server.connections()) ids.push(conn.sessionId);
  for (const id of ids) {
    const session = server.session(id);
    for (let i = 0; i < message.k; i++) if (session?.send({ pad: i })) sent++;
  }
  process.send({ type: "sent-all", sent });
});

await server.listening;
announceReady({
  port: server.address().port,
  path: "/ws",
  getStats: () => ({
    store: storeKind,
    open,
    echoed,
    refused,
    resumed,
    redisWrites,
    redisWriteBytes,
    storeErrors,
    // The store's own count of batches (one round trip each on a single Redis) and commands.
    storeStats: store?.stats?.(),
    sessions: server.stats().sessions,
  }),
});

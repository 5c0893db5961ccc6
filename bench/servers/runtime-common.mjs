// The IPC side of a server under test on Bun or Deno (bench/runtimes.mjs):
// the same messages as common.mjs, from what those runtimes provide. Bun and
// Deno both speak Node's IPC channel (NODE_CHANNEL_FD) to a Node parent.
// Not measured here: GC counts and pauses and event-loop delay (no `gc`
// performance entries, no monitorEventLoopDelay): the tally says so.
import process from "node:process";

export const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
export const host = "127.0.0.1";

/** A full collection, as each runtime offers it. */
function collect() {
  const bun = globalThis.Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return true;
  }
  // Deno runs with --v8-flags=--expose-gc (bench/runtimes.mjs).
  if (typeof globalThis.gc !== "function") return false;
  globalThis.gc();
  return true;
}

const unmeasured = () => {
  const none = { count: null, totalMs: null, maxMs: null };
  return {
    unmeasured: true,
    scavenge: none,
    markCompact: none,
    incrementalMarking: none,
    weakCallbacks: none,
    seconds: null,
    loopDelayMaxMs: null,
    loopDelayP99Ms: null,
  };
};

export function announceReady({ port, path, getStats }) {
  process.on("message", (message) => {
    if (message?.type === "stats") process.send({ type: "stats", stats: getStats() });
    if (message?.type === "gc-tally") process.send({ type: "gc-tally", tally: unmeasured() });
    if (message?.type === "gc") {
      const collected = collect();
      const { heapUsed, external } = process.memoryUsage();
      process.send({ type: "gc-done", collected, heapUsed, external, spaces: {} });
    }
  });
  process.send({ type: "ready", port, path });
}

// The orchestrator going away closes the IPC channel: follow it.
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));

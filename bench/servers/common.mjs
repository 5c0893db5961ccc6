// What every server under test shares: its settings from the environment and
// the IPC handshake with the orchestrator (bench/run.mjs).

/** X, the heartbeat interval; the timeout is 2X everywhere. */
export const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
export const timeoutMs = 2 * intervalMs;
export const host = "127.0.0.1";

/**
 * Tells the orchestrator the server listens, and answers its `stats`
 * requests with `getStats()` (counts kept by the server script itself).
 */
export function announceReady({ port, path, getStats }) {
  process.on("message", (message) => {
    if (message?.type === "stats") process.send({ type: "stats", stats: getStats() });
  });
  process.send({ type: "ready", port, path });
}

// The orchestrator going away (even by SIGKILL) closes the IPC channel: follow it.
process.on("disconnect", () => process.exit(0));

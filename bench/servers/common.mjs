// What every server under test shares: its settings from the environment and
// the IPC handshake with the orchestrator (bench/run.mjs).

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { getHeapSpaceStatistics } from "node:v8";

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
    if (message?.type === "profile-start") void startProfile();
    if (message?.type === "profile-stop") void stopProfile(message.path);
    if (message?.type === "stats") process.send({ type: "stats", stats: getStats() });
    // A full collection before a memory reading (the orchestrator starts servers with --expose-gc).
    if (message?.type === "gc") {
      globalThis.gc?.();
      const { heapUsed, external } = process.memoryUsage();
      // Committed size per V8 space: tells retained objects from a grown young generation.
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]),
      );
      process.send({
        type: "gc-done",
        collected: typeof globalThis.gc === "function",
        heapUsed,
        external,
        spaces,
      });
    }
  });
  process.send({ type: "ready", port, path });
}

// The orchestrator going away (even by SIGKILL) closes the IPC channel: follow it.
process.on("disconnect", () => process.exit(0));
// An orderly exit on SIGTERM, so that `--cpu-prof` gets to write its profile.
process.on("SIGTERM", () => process.exit(0));

// --profile: a CPU profile of the steady window only (connect and silence
// phases left out), taken in-process through the inspector.
let session;

function post(method, params = {}) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function startProfile() {
  session = new Session();
  session.connect();
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 1000 });
  await post("Profiler.start");
}

async function stopProfile(path) {
  const { profile } = await post("Profiler.stop");
  writeFileSync(path, JSON.stringify(profile));
  session.disconnect();
  process.send({ type: "profile-written", path });
}

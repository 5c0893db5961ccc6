// Heartline's server with its default options, at the bench's rhythm. Run from
// the bundle bench/lib/build-heartline.mjs makes of this file.
// BENCH_NO_AFTER_IO=1 (an experiment, issue 26): a clock without `afterIO`,
// so the deadline queue judges in the timer callback itself instead of after
// the I/O already waiting has been read.
import { systemClock } from "@heartline/protocol";
import { createServer } from "@heartline/server";
import { announceReady, host, intervalMs } from "./common.mjs";
import { countingListeners } from "./heartline-counts.mjs";

const { on, getStats } = countingListeners(intervalMs);
const clock =
  process.env.BENCH_NO_AFTER_IO === "1"
    ? {
        now: systemClock.now,
        setTimeout: systemClock.setTimeout,
        clearTimeout: systemClock.clearTimeout,
      }
    : undefined;
const server = createServer({ port: 0, host, intervalMs, on, ...(clock ? { clock } : {}) });

await server.listening;
announceReady({ port: server.address().port, path: "/ws", getStats });

// Heartline's server with its default options, at the bench's rhythm. Run from
// the bundle bench/lib/build-heartline.mjs makes of this file.
import { createServer } from "@heartline/server";
import { announceReady, host, intervalMs } from "./common.mjs";
import { countingListeners } from "./heartline-counts.mjs";

const { on, getStats } = countingListeners(intervalMs);
const server = createServer({ port: 0, host, intervalMs, on });

await server.listening;
announceReady({ port: server.address().port, path: "/ws", getStats });

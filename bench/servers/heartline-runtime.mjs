// Heartline's server on Bun (@heartline/server/bun) or Deno
// (@heartline/server/deno), whichever runs the bundle, with the same options
// and listeners as servers/heartline.mjs on Node: every default, at the
// bench's rhythm.
import { createServer as createBunServer } from "@heartline/server/bun";
import { createServer as createDenoServer } from "@heartline/server/deno";
import { countingListeners } from "./heartline-counts.mjs";
import { announceReady, host, intervalMs } from "./runtime-common.mjs";

const { on, getStats } = countingListeners(intervalMs);
const createServer = globalThis.Bun !== undefined ? createBunServer : createDenoServer;
const server = createServer({ port: 0, host, intervalMs, on });

await server.listening;
announceReady({ port: server.address().port, path: "/ws", getStats });

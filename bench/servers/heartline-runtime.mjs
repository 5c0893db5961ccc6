// Heartline's server on Bun (@heartline/server/bun) or Deno
// (@heartline/server/deno), whichever runs the bundle, with the same options
// as servers/heartline.mjs on Node: every default, at the bench's rhythm.
import { DisconnectReason } from "@heartline/protocol";
import { createServer as createBunServer } from "@heartline/server/bun";
import { createServer as createDenoServer } from "@heartline/server/deno";
import { announceReady, host, intervalMs } from "./runtime-common.mjs";

let open = 0;
let timeouts = 0;
/** Server-side lateness of each timeout report: now − lastSeenAt − timeoutMs (a cross-check). */
const lateness = [];

const createServer = globalThis.Bun !== undefined ? createBunServer : createDenoServer;
const server = createServer({
  port: 0,
  host,
  intervalMs,
  on: {
    connection: () => {
      open++;
    },
    disconnect: (info) => {
      open--;
      if (info.reason === DisconnectReason.Timeout) {
        timeouts++;
        lateness.push(Date.now() - info.lastSeenAt - 2 * intervalMs);
      }
    },
  },
});

await server.listening;
announceReady({
  port: server.address().port,
  path: "/ws",
  getStats: () => ({ open, timeouts, lateness }),
});

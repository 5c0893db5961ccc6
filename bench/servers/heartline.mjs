// Heartline's server with its default options, at the bench's rhythm. Run from
// the bundle bench/lib/build-heartline.mjs makes of this file.
import { DisconnectReason } from "@heartline/protocol";
import { createServer } from "@heartline/server";
import { announceReady, host, intervalMs } from "./common.mjs";

let open = 0;
let timeouts = 0;
/** Server-side lateness of each timeout report: now − lastHeardAt − timeoutMs (a cross-check). */
const lateness = [];

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
        lateness.push(Date.now() - info.lastHeardAt - 2 * intervalMs);
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

// Issue 13's cost check (node bench/resume-cost.mjs): bench/servers/heartline.mjs
// with an echo (every application message sent straight back) and resumable
// sessions on with their defaults (`resume: {}`), or off when BENCH_RESUME=0.
// Both sides of the comparison run this one bundle, so the only difference
// between them is the option; a client that does not offer `heartline.resume`
// is plain v1 either way. Run from the bundle bench/resume-cost.mjs makes.
import { DisconnectReason } from "@heartline/protocol";
import { createServer } from "@heartline/server";
import { announceReady, host, intervalMs } from "./common.mjs";

const resume = process.env.BENCH_RESUME !== "0";
let open = 0;
let timeouts = 0;
let echoed = 0;
let refused = 0;
let resumableDisconnects = 0;
let sessionEnds = 0;
const lateness = [];

const server = createServer({
  port: 0,
  host,
  intervalMs,
  ...(resume ? { resume: {} } : {}),
  on: {
    connection: () => {
      open++;
    },
    message: (conn, data) => {
      if (conn.send(data)) echoed++;
      else refused++;
    },
    disconnect: (info) => {
      open--;
      if (info.resumable) resumableDisconnects++;
      if (info.reason === DisconnectReason.Timeout) {
        timeouts++;
        lateness.push(Date.now() - info.lastHeardAt - 2 * intervalMs);
      }
    },
    sessionEnd: () => {
      sessionEnds++;
    },
  },
});

await server.listening;
announceReady({
  port: server.address().port,
  path: "/ws",
  getStats: () => ({
    resume,
    open,
    timeouts,
    lateness,
    echoed,
    refused,
    resumableDisconnects,
    sessionEnds,
    sessions: server.stats().sessions,
  }),
});

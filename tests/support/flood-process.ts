// One misbehaving client in its own process: it connects, then sends
// application messages as fast as its socket takes them until the server
// closes it, and reconnects to do it again, for `durationMs` or
// `maxConnections`, whichever ends first. Configured by HL_FLOOD (JSON,
// `FloodConfig`). JSON lines on stdout:
//   {"type":"flood-open","sessionId"}                   every welcome (the flood starts)
//   {"type":"flood-closed","sessionId","code","sent"}   every flooding connection that ended
//   {"type":"done","connections","sent"}                then it exits 0
import { encodeClientMessage, SUBPROTOCOL } from "@heartline/protocol";
import WebSocket from "ws";

export interface FloodConfig {
  readonly url: string;
  readonly durationMs: number;
  readonly maxConnections: number;
  /** Size of each message's `data` string. */
  readonly payloadBytes: number;
}

const config = JSON.parse(process.env.HL_FLOOD ?? "{}") as FloodConfig;
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

const frame = encodeClientMessage({ type: "message", data: "x".repeat(config.payloadBytes) });
/** Keep this much queued in the socket: enough to never leave the server idle. */
const HIGH_WATER = 256 * 1024;
const PER_TURN = 1000;
const endsAt = Date.now() + config.durationMs;
let connections = 0;
let total = 0;

function flood(): void {
  if (Date.now() >= endsAt || connections >= config.maxConnections) {
    out({ type: "done", connections, sent: total });
    // Exit once the answer is flushed: a pipe the parent reads slowly can make
    // stdout asynchronous, and process.exit() would drop the line.
    process.stdout.write("", () => process.exit(0));
    return;
  }
  connections++;
  const ws = new WebSocket(config.url, SUBPROTOCOL);
  let sessionId: string | undefined;
  let sent = 0;
  const pump = (): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    // Bounded per turn too: the kernel may take writes as fast as they come,
    // and the server's close frame can only arrive between turns.
    for (let n = 0; n < PER_TURN && ws.bufferedAmount < HIGH_WATER; n++) {
      ws.send(frame);
      sent++;
    }
    setImmediate(pump);
  };
  ws.once("message", (data) => {
    sessionId = (JSON.parse(String(data)) as { sessionId: string }).sessionId;
    out({ type: "flood-open", sessionId });
    pump();
  });
  ws.on("error", () => {});
  ws.once("close", (code) => {
    total += sent;
    out({ type: "flood-closed", sessionId, code, sent });
    flood();
  });
}
flood();

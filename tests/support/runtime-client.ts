// @heartline/client on Bun's or Deno's global WebSocket (whichever runs this
// file), for tests/runtime-client.test.ts. Configured by HL_CLIENT (JSON:
// { url }). Prints JSON lines on stdout:
//   {"type":"open","sessionId","resumed","intervalMs","websocket"}
//   {"type":"pong","seq","rttMs"}  {"type":"message","data"}
//   {"type":"disconnect","reason","code"?,"willReconnect","willResume","detectedAfterMs"?}
//   {"type":"resumed","sessionId","replayed"}  {"type":"reconnecting","attempt","delayMs"}
// and takes commands on stdin: {"id","cmd":"send","data"} → {"type":"sent","re","ok"};
// {"id","cmd":"close"} → closes 1000 and exits. It exits when stdin closes.
import process from "node:process";
import { createInterface } from "node:readline";
import { createClient } from "@heartline/client";

const { url } = JSON.parse(process.env.HL_CLIENT ?? "{}") as { url: string };
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

// The runtime's own WebSocket, not `ws` through isomorphic-ws.
const NativeWebSocket = globalThis.WebSocket;
const client = createClient({
  url,
  WebSocket: NativeWebSocket,
  // Quick retries: the test waits for them in real time.
  reconnect: { baseMs: 20, capMs: 100 },
  on: {
    open: ({ sessionId, resumed, heartbeat }) =>
      out({
        type: "open",
        sessionId,
        resumed,
        intervalMs: heartbeat.intervalMs,
        websocket: NativeWebSocket.name,
      }),
    pong: ({ seq, rttMs }) => out({ type: "pong", seq, rttMs }),
    message: (data) => out({ type: "message", data }),
    disconnect: (event) => out({ type: "disconnect", ...event }),
    resumed: ({ sessionId, replayed }) => out({ type: "resumed", sessionId, replayed }),
    reconnecting: ({ attempt, delayMs }) => out({ type: "reconnecting", attempt, delayMs }),
  },
});
client.connect();

for await (const text of createInterface({ input: process.stdin })) {
  const { id, cmd, data } = JSON.parse(text) as { id: number; cmd: string; data?: unknown };
  if (cmd === "send") out({ type: "sent", re: id, ok: client.send(data) });
  else if (cmd === "close") {
    client.close();
    out({ type: "closed", re: id });
    process.stdout.write("", () => process.exit(0));
  }
}
client.close();
process.exit(0);

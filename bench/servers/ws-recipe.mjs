// The `ws` README recipe ("How to detect and close broken connections?"):
// the server sends a protocol ping to every client from one setInterval and
// terminates those that did not answer the previous one. Its liveness rule is
// that sweep; it also answers the clients' app pings (JSON.parse + pong) so the
// round-trip and per-heartbeat figures compare with the other servers.
import { WebSocketServer } from "ws";
import { announceReady, host, intervalMs } from "./common.mjs";

let timeouts = 0;

function heartbeat() {
  this.isAlive = true;
}

const wss = new WebSocketServer({ host, port: 0, path: "/ws" });

wss.on("connection", (ws) => {
  ws.isAlive = true;
  ws.on("error", () => {});
  ws.on("pong", heartbeat);
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === "ping") ws.send(JSON.stringify({ type: "pong", seq: message.seq }));
  });
});

const interval = setInterval(() => {
  for (const ws of wss.clients) {
    if (ws.isAlive === false) {
      timeouts++;
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, intervalMs);

wss.on("close", () => clearInterval(interval));

wss.on("listening", () => {
  announceReady({
    port: wss.address().port,
    path: "/ws",
    getStats: () => ({ open: wss.clients.size, timeouts }),
  });
});

// The floor: what a heartbeat server costs on plain `ws` with no framework.
// JSON.parse, one refreshed setTimeout per connection, a pong per ping, no
// validation. On silence it does what Heartline does: close frame 4000, then
// destroy the socket at once.
import { WebSocketServer } from "ws";
import { announceReady, host, timeoutMs } from "./common.mjs";

const TIMEOUT_CODE = 4000; // the heartbeat-timeout code of the Heartline protocol
let open = 0;
let timeouts = 0;

const wss = new WebSocketServer({ host, port: 0, path: "/ws", clientTracking: false });

wss.on("connection", (ws) => {
  open++;
  const timer = setTimeout(() => {
    timeouts++;
    ws.close(TIMEOUT_CODE);
    ws.terminate();
  }, timeoutMs);
  ws.on("message", (data) => {
    timer.refresh();
    const message = JSON.parse(data.toString());
    if (message.type === "ping") ws.send(JSON.stringify({ type: "pong", seq: message.seq }));
  });
  ws.on("error", () => {});
  ws.on("close", () => {
    open--;
    clearTimeout(timer);
  });
});

wss.on("listening", () => {
  announceReady({ port: wss.address().port, path: "/ws", getStats: () => ({ open, timeouts }) });
});

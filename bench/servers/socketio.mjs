// socket.io 4 on the websocket transport only, with its own server-driven
// heartbeat at the same rhythm: a ping every X, closed when the pong is X late.
// Clients measure round trips with an emit + ack (`hb`), answered here.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { announceReady, host, intervalMs } from "./common.mjs";

let open = 0;
let timeouts = 0;

const http = createServer();
const io = new Server(http, {
  path: "/socket.io",
  transports: ["websocket"],
  pingInterval: intervalMs,
  pingTimeout: intervalMs,
  serveClient: false,
});

io.on("connection", (socket) => {
  open++;
  socket.on("hb", (seq, ack) => {
    if (typeof ack === "function") ack(seq);
  });
  socket.on("disconnect", (reason) => {
    open--;
    if (reason === "ping timeout") timeouts++;
  });
});

http.listen(0, host, () => {
  announceReady({
    port: http.address().port,
    path: "/socket.io",
    getStats: () => ({ open, timeouts }),
  });
});

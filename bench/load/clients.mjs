// One connection of the load, per kind of server, speaking that server's
// protocol at the least cost we can manage: template-string pings, one
// JSON.parse per reply. Each driver wires a socket to the hooks of a client
// state object (see generator.mjs) and gives it `sendPing()`. `localAddress`
// is the loopback source address to connect from (one address has about
// 28,000 ephemeral ports, so large runs spread over 127.0.0.2, .3, …).
import { io } from "socket.io-client";
import { WebSocket } from "ws";

/**
 * A handshake still pending after this long counts as failed (with ws's
 * "Opening handshake has timed out"), so a connect phase on a busy machine
 * ends with a count instead of waiting on SYN retries.
 */
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Stamps the moment the server's close frame is parsed: `ws` has no public
 * event for it (its "close" waits for the socket to end), so this listens to
 * its receiver's "conclude", first in line. The socket exists by "open".
 */
function watchCloseFrame(ws, client, hooks) {
  ws.once("open", () => ws._receiver.prependListener("conclude", () => hooks.closeFrame(client)));
}

/**
 * Heartline: offers `heartline.v1`, waits for `welcome`, pings every X,
 * reads `pong`. Every ping is a data frame, so it is also the heartbeat.
 *
 * With `options.resume` it also offers `heartline.resume` (and fails the
 * connection if the welcome has no `resume`), numbers its messages with
 * `seq`, checks the server's are in order, and acks them as the contract
 * asks: at once when 32 are unacknowledged, else with its next ping (so at
 * the latest one interval after receipt). `client.sendMessage()` sends one
 * application message; the server's echo of it is reported by `hooks.echo`.
 */
function heartline(client, url, hooks, localAddress, options = {}) {
  const resume = options.resume === true;
  const ws = new WebSocket(url, resume ? ["heartline.v1", "heartline.resume"] : "heartline.v1", {
    perMessageDeflate: false,
    localAddress,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  watchCloseFrame(ws, client, hooks);
  let welcomed = false;
  /** Highest server message seq received, and how many of them are unacknowledged. */
  let inSeq = 0;
  let unacked = 0;
  let outSeq = 0;
  const ack = () => {
    hooks.sent(client);
    ws.send(`{"type":"ack","seq":${inSeq}}`);
    unacked = 0;
  };
  client.sendPing = () => {
    if (unacked > 0) ack();
    hooks.sent(client);
    ws.send(`{"type":"ping","seq":${client.seq}}`);
  };
  client.sendMessage = resume
    ? () => {
        hooks.sent(client);
        outSeq++;
        ws.send(`{"type":"message","seq":${outSeq},"data":{"n":${outSeq}}}`);
      }
    : () => {
        hooks.sent(client);
        outSeq++;
        ws.send(`{"type":"message","data":{"n":${outSeq}}}`);
      };
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (!welcomed) {
      if (message.type !== "welcome") return hooks.failed(client, "no welcome first");
      if (resume && message.resume === undefined)
        return hooks.failed(client, "no resume in welcome");
      welcomed = true;
      // The session id joins this client's times to the server's report of it (bench/lib/decompose.mjs).
      client.sessionId = message.sessionId;
      return hooks.ready(client);
    }
    if (message.type === "pong") return hooks.pong(client, message.seq);
    if (message.type !== "message") return;
    if (resume) {
      // No drop happens here, so anything but the next seq is the server's fault.
      if (message.seq !== inSeq + 1) return hooks.outOfOrder(client);
      inSeq = message.seq;
      if (++unacked >= 32 && !client.silent) ack();
    }
    hooks.echo(client);
  });
  ws.on("error", (error) => hooks.failed(client, error.code ?? error.message));
  ws.on("close", (code) => hooks.closed(client, code));
}

/** The floor: like Heartline but with no welcome; pings start at open. */
function floor(client, url, hooks, localAddress) {
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    localAddress,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  watchCloseFrame(ws, client, hooks);
  client.sendPing = () => {
    hooks.sent(client);
    ws.send(`{"type":"ping","seq":${client.seq}}`);
  };
  ws.on("open", () => hooks.ready(client));
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === "pong") hooks.pong(client, message.seq);
  });
  ws.on("error", (error) => hooks.failed(client, error.code ?? error.message));
  ws.on("close", (code) => hooks.closed(client, code));
}

/**
 * The ws recipe: the server's protocol pings are what keep the client alive,
 * so the client answers them by hand (autoPong off) and stops answering
 * when it goes silent. The app pings are only there for RTT and load parity.
 */
function wsRecipe(client, url, hooks, localAddress) {
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    autoPong: false,
    localAddress,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  client.sendPing = () => {
    hooks.sent(client);
    ws.send(`{"type":"ping","seq":${client.seq}}`);
  };
  ws.on("open", () => hooks.ready(client));
  ws.on("ping", (payload) => {
    if (client.silent) return;
    hooks.sent(client);
    ws.pong(payload);
  });
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === "pong") hooks.pong(client, message.seq);
  });
  ws.on("error", (error) => hooks.failed(client, error.code ?? error.message));
  ws.on("close", (code) => hooks.closed(client, code));
}

/**
 * socket.io: RTT by emit + ack. Its heartbeat is server-driven (engine.io
 * ping, client pong), so a silent client must also stop its pongs: every
 * frame leaves through the transport's `ws.send`, which we wrap to stamp
 * the last sent frame and to drop everything once the client is silent.
 */
function socketio(client, url, hooks, localAddress) {
  const socket = io(url, {
    localAddress,
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 20_000,
  });
  client.deferSilence = true;
  client.sendPing = () => {
    socket.emit("hb", client.seq, (seq) => hooks.pong(client, seq));
  };
  socket.on("connect", () => {
    const raw = socket.io.engine.transport.ws;
    const send = raw.send;
    raw.send = function sendUnlessSilent(...args) {
      if (client.silent) return;
      hooks.sent(client);
      send.apply(this, args);
    };
    hooks.ready(client);
  });
  socket.on("connect_error", (error) => hooks.failed(client, error.message));
  socket.on("disconnect", (reason) => hooks.closed(client, reason));
}

export const drivers = { heartline, floor, "ws-recipe": wsRecipe, socketio };

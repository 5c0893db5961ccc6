// A load generator process: holds its share of the connections, pings every X
// at a random phase and times the replies. One of them, the probe, holds the
// clients that go silent: on command each sends one last ping, then only
// reads, and the probe times the arrival of the server's close frame (or, with
// none, of the socket's close). The probe carries a twentieth of the load, so
// its timestamps are not blurred by a busy event loop; both timestamps of a
// detection come from its clock.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { drivers } from "./clients.mjs";

const now = () => performance.now();

let config;
const clients = [];
let readyCount = 0;
let failedCount = 0;
const failures = {};
let inWindow = false;
let windowRtts = [];
let windowPongs = 0;
/** Application messages: sent and echoes received in the window, and echoes out of seq order. */
let windowMessagesSent = 0;
let windowEchoes = 0;
let outOfOrder = 0;
let silenceStarted = false;
let silentTotal = 0;
let silentClosed = 0;
const detections = [];
/** Per silent client with a session id: [sessionId, last frame sent, close seen], epoch ms. */
const silentTimes = [];
/** Detections timed by the close frame's arrival (the rest by the socket's close: no frame came). */
let detectionsByFrame = 0;
const unexpectedCloses = {};
const lag = monitorEventLoopDelay({ resolution: 10 });

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

const hooks = {
  ready(client) {
    client.state = "open";
    readyCount++;
    maybeConnected();
    const tick = () => beat(client);
    client.timer = setTimeout(() => {
      client.timer = setInterval(tick, config.intervalMs);
      tick();
    }, Math.random() * config.intervalMs);
    // --messages: each client sends at its own random phase, one timer per client.
    if (config.messagesPerSecond > 0) {
      const everyMs = 1000 / config.messagesPerSecond;
      const send = () => message(client);
      client.messageTimer = setTimeout(() => {
        client.messageTimer = setInterval(send, everyMs);
        send();
      }, Math.random() * everyMs);
    }
  },
  echo() {
    if (inWindow) windowEchoes++;
  },
  outOfOrder() {
    outOfOrder++;
  },
  sent(client) {
    client.lastSentAt = now();
  },
  closeFrame(client) {
    if (client.closeFrameAt === 0) client.closeFrameAt = now();
  },
  pong(client, seq) {
    if (seq !== client.seq || client.sentAt === 0) return;
    if (inWindow) {
      windowRtts.push(now() - client.sentAt);
      windowPongs++;
    }
    client.sentAt = 0;
  },
  failed(client, reason) {
    if (client.state !== "connecting") return;
    client.state = "failed";
    failedCount++;
    count(failures, String(reason));
    maybeConnected();
  },
  closed(client, code) {
    const closedAt = now();
    clearTimeout(client.timer);
    clearInterval(client.timer);
    clearTimeout(client.messageTimer);
    clearInterval(client.messageTimer);
    if (client.state === "connecting") return hooks.failed(client, `closed ${code}`);
    if (client.state !== "open") return;
    client.state = "closed";
    if (client.silent) {
      if (client.closeFrameAt !== 0) detectionsByFrame++;
      const observedAt = client.closeFrameAt !== 0 ? client.closeFrameAt : closedAt;
      detections.push(observedAt - client.lastSentAt - 2 * config.intervalMs);
      if (client.sessionId !== undefined) {
        const origin = performance.timeOrigin;
        silentTimes.push([client.sessionId, origin + client.lastSentAt, origin + observedAt]);
      }
      silentClosed++;
      if (silentClosed === silentTotal) process.send({ type: "silence-done" });
    } else {
      count(unexpectedCloses, String(code));
    }
  },
};

function beat(client) {
  if (client.silent || client.state !== "open") return;
  client.seq++;
  client.sentAt = now();
  client.sendPing();
  if (client.goSilent) {
    // This ping is the client's last frame: from here it only reads. A driver
    // whose library may hold the frame until the next tick (socket.io buffers
    // while its transport drains) goes silent once that tick has passed.
    clearInterval(client.timer);
    if (client.deferSilence) setImmediate(() => (client.silent = true));
    else client.silent = true;
  }
}

function message(client) {
  if (client.silent || client.goSilent || client.state !== "open") return;
  if (inWindow) windowMessagesSent++;
  client.sendMessage();
}

function maybeConnected() {
  if (readyCount + failedCount === config.count) {
    process.send({ type: "connected", ready: readyCount, failed: failedCount, failures });
  }
}

function connectAll() {
  const { kind, count, connectPerSecond } = config;
  // `urls` (bench/scale.mjs, workers on ports of their own): clients spread over them by index.
  const urlOf = (index) => (config.urls ? config.urls[index % config.urls.length] : config.url);
  // `localAddresses` (bench/scale.mjs): several source addresses, a bound connect's port search
  // slowing down as one address fills.
  const addressOf = (index) =>
    config.localAddresses
      ? config.localAddresses[index % config.localAddresses.length]
      : config.localAddress;
  const driver = drivers[kind];
  const stepMs = 20;
  const perStep = Math.max(1, Math.round((connectPerSecond * stepMs) / 1000));
  let next = 0;
  const pacer = setInterval(() => {
    for (let i = 0; i < perStep && next < count; i++, next++) {
      const client = {
        index: config.firstIndex + next,
        state: "connecting",
        seq: -1,
        sentAt: 0,
        lastSentAt: 0,
        closeFrameAt: 0,
        sessionId: undefined,
        silent: false,
        goSilent: false,
        deferSilence: false,
        timer: undefined,
        messageTimer: undefined,
        sendPing: undefined,
        sendMessage: undefined,
      };
      clients.push(client);
      driver(client, urlOf(client.index), hooks, addressOf(client.index), config);
    }
    if (next === count) clearInterval(pacer);
  }, stepMs);
}

process.on("message", (message) => {
  switch (message?.type) {
    case "start":
      config = message.config;
      connectAll();
      break;
    case "status":
      process.send({
        type: "status",
        ready: readyCount,
        failed: failedCount,
        count: config?.count,
        started: clients.length,
        failures,
      });
      break;
    case "window-start":
      windowRtts = [];
      windowPongs = 0;
      windowMessagesSent = 0;
      windowEchoes = 0;
      lag.reset();
      lag.enable();
      inWindow = true;
      break;
    case "window-end":
      inWindow = false;
      lag.disable();
      process.send({
        type: "window",
        rtts: windowRtts,
        pongs: windowPongs,
        messagesSent: windowMessagesSent,
        echoes: windowEchoes,
        outOfOrder,
        lagP99Ms: lag.percentile(99) / 1e6,
        open: clients.filter((c) => c.state === "open").length,
      });
      break;
    case "silence":
      silenceStarted = true;
      lag.reset();
      lag.enable();
      for (const client of clients) {
        if (client.state === "open" && config.probe) {
          client.goSilent = true;
          silentTotal++;
        }
      }
      if (silentTotal === 0) process.send({ type: "silence-done" });
      break;
    case "report":
      process.send({
        type: "report",
        silentTotal,
        silentClosed,
        detections,
        silentTimes,
        detectionsByFrame,
        unexpectedCloses,
        silenceStarted,
        // A stall here delays the observed closes: it reads as detection error.
        lagMaxMs: lag.max / 1e6,
      });
      break;
  }
});

// The orchestrator going away (even by SIGKILL) closes the IPC channel: follow it.
process.on("disconnect", () => process.exit(0));
process.send({ type: "up" });

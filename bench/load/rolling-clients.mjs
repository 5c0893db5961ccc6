// The load of bench/scale.mjs's rolling restart (issue 26, part 3): one
// process's share of resumable Heartline clients that come back with their
// token wherever the port sends them. Every client pings every X (a sweep
// timer, not one per client) and resumes after a drop: after `goodbye`, at a
// uniformly random moment of its window (PROTOCOL.md §2); after any other
// close, at once plus a little jitter. A refused upgrade (503, a worker at its
// descriptor guard; a refused connect) is tried again after a jittered wait
// (the Retry-After, capped at 2 s: the bench wants the figure, not the wait).
//
// The first `sampled` clients also send numbered messages (`seq` = the
// message's own number n, data {n}) that the server echoes: the client keeps
// what the server has not acknowledged and replays it after `resumed.ack`,
// drops the server's replays (seq ≤ what it had), and checks the echoes by
// n: each exactly once and in order. Both directions are checked so: a
// client → server loss or duplicate shows as a missing or repeated echo, a
// server → client one the same way.
//
// IPC: {type:"start", config} → {type:"connected", ready, failed, failures}
//      {type:"messages", on}                  sampled clients start/stop sending
//      {type:"status"} → {type:"status", open, down, notResumed}
//      {type:"report"} → {type:"report", …}    see report() below
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { WebSocket } from "ws";

const HANDSHAKE_TIMEOUT_MS = 30_000;
const now = () => performance.now();
const epoch = (t) => performance.timeOrigin + t;

let config;
const clients = [];
let connectedSent = false;
let sending = false;
const failures = {};
const unexpectedCloses = {};
const notResumed = {};
/** Epoch ms of every reconnect attempt (upgrade started) and every successful resume. */
const attemptTimes = [];
const resumeTimes = [];
/** Per completed resume: welcome − the old socket's close, ms. */
const downtimes = [];
let resumes = 0;
let goodbyes = 0;
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const sample = { sent: 0, echoed: 0, duplicates: 0, gaps: 0, replayed: 0, droppedReplays: 0 };

const bump = (map, key) => {
  map[key] = (map[key] ?? 0) + 1;
};

function makeClient(index) {
  return {
    index,
    sampled: false,
    ws: undefined,
    state: "connecting", // connecting | open | down | failed
    everOpen: false,
    token: undefined,
    sessionId: undefined,
    goodbye: undefined,
    closedAt: 0,
    pingSeq: 0,
    inSeq: 0,
    unackedIn: 0,
    outSeq: 0,
    /** Messages sent and not acknowledged by the server: [seq, …] in order (data is {n: seq}). */
    outUnacked: [],
    lastEcho: 0,
  };
}

function send(client, text) {
  client.ws.send(text);
}

function ackIn(client) {
  send(client, `{"type":"ack","seq":${client.inSeq}}`);
  client.unackedIn = 0;
}

function connect(client) {
  const offer =
    client.token === undefined ? "heartline.resume" : `heartline.resume.${client.token}`;
  if (client.everOpen) attemptTimes.push(epoch(now()));
  const ws = new WebSocket(config.url, ["heartline.v1", offer], {
    perMessageDeflate: false,
    // Spread over the process's source addresses (bench/scale.mjs: PER_ADDRESS).
    localAddress: config.localAddresses[client.index % config.localAddresses.length],
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  client.ws = ws;
  let welcomed = false;
  let retryAfterMs;
  let refused = false;
  ws.on("unexpected-response", (_req, res) => {
    refused = true;
    const seconds = Number(res.headers["retry-after"]);
    if (seconds >= 0) retryAfterMs = seconds * 1000;
    bump(failures, `http ${res.statusCode}`);
    res.resume();
    ws.terminate();
  });
  ws.on("message", (raw) => {
    if (client.ws !== ws) return;
    const m = JSON.parse(raw.toString());
    if (!welcomed) {
      welcomed = true;
      onWelcome(client, m);
      return;
    }
    switch (m.type) {
      case "message":
        return onMessage(client, m);
      case "ack": {
        const q = client.outUnacked;
        let k = 0;
        while (k < q.length && q[k] <= m.seq) k++;
        if (k > 0) q.splice(0, k);
        return;
      }
      case "goodbye":
        client.goodbye = m.reconnect;
        goodbyes++;
        return;
    }
  });
  ws.on("error", (error) => {
    // A refusal was counted by its status (terminate() then errors as well).
    if (!welcomed && !refused) bump(failures, error.code ?? error.message);
  });
  ws.on("close", (code) => {
    if (client.ws !== ws) return;
    const wasOpen = client.state === "open";
    client.state = client.state === "failed" ? "failed" : "down";
    if (stopping || client.state === "failed") return;
    const t = now();
    if (wasOpen) {
      client.closedAt = t;
      if (client.goodbye === undefined) bump(unexpectedCloses, String(code));
    }
    let delay;
    if (!welcomed) {
      // Refused or failed before the welcome: the token is not spent, try again.
      const cap = Math.min(retryAfterMs ?? 1000, 2000);
      delay = 250 + Math.random() * Math.max(0, cap - 250);
      if (!client.everOpen) bump(failures, "retried");
    } else if (client.goodbye !== undefined) {
      const { minMs, maxMs } = client.goodbye;
      delay = minMs + Math.random() * (maxMs - minMs);
    } else {
      delay = 100 + Math.random() * 400;
    }
    client.goodbye = undefined;
    setTimeout(() => connect(client), delay);
  });
}

function onWelcome(client, m) {
  const first = !client.everOpen;
  client.sessionId = m.sessionId;
  if (m.resume) client.token = m.resume.token;
  if (!first) {
    if (m.resumed !== undefined) {
      resumes++;
      resumeTimes.push(epoch(now()));
      downtimes.push(now() - client.closedAt);
      // Replay: what the server had counts as acknowledged, the rest goes again, in order.
      const q = client.outUnacked;
      let k = 0;
      while (k < q.length && q[k] <= m.resumed.ack) k++;
      if (k > 0) q.splice(0, k);
      client.state = "open";
      for (const seq of q) {
        sample.replayed++;
        send(client, `{"type":"message","seq":${seq},"data":{"n":${seq}}}`);
      }
    } else {
      // A new session: the old one did not resume. Its stream cannot be checked further.
      bump(notResumed, m.resumeFailed ?? "no resume in welcome");
      client.state = "failed";
      client.ws.close(1000);
      return;
    }
  } else {
    if (m.resume === undefined) {
      bump(failures, "no resume in welcome");
      client.state = "failed";
      failedCount++;
      maybeConnected();
      return;
    }
    client.everOpen = true;
    client.state = "open";
    client.pingSeq = 0;
    readyCount++;
    maybeConnected();
  }
}

function onMessage(client, m) {
  if (m.seq <= client.inSeq) {
    sample.droppedReplays++;
    return;
  }
  client.inSeq = m.seq;
  if (++client.unackedIn >= 32) ackIn(client);
  const n = m.data?.n;
  if (typeof n !== "number") return;
  sample.echoed++;
  if (n <= client.lastEcho) sample.duplicates++;
  else {
    if (n !== client.lastEcho + 1) sample.gaps += n - client.lastEcho - 1;
    client.lastEcho = n;
  }
}

let readyCount = 0;
let failedCount = 0;
/** Counted as they happen (a filter over every client per welcome was quadratic at 10,000). */
function maybeConnected() {
  if (!connectedSent && readyCount + failedCount === config.count) {
    connectedSent = true;
    process.send({ type: "connected", ready: readyCount, failed: failedCount, failures });
  }
}

// Pings: every client once per X, a tenth of X's share every X/10 (acks ride along).
let pingCursor = 0;
function startPings() {
  const slices = 10;
  setInterval(() => {
    const share = Math.ceil(clients.length / slices);
    for (let i = 0; i < share && clients.length > 0; i++) {
      const client = clients[pingCursor++ % clients.length];
      if (client.state !== "open") continue;
      if (client.unackedIn > 0) ackIn(client);
      send(client, `{"type":"ping","seq":${client.pingSeq++}}`);
    }
  }, config.intervalMs / slices);
}

// Messages: each sampled client `messagesPerSecond`, in 20 ms slices, round-robin.
let sendCursor = 0;
function startMessages() {
  const sampledClients = clients.filter((c) => c.sampled);
  const perSecond = sampledClients.length * config.messagesPerSecond;
  let owed = 0;
  setInterval(() => {
    if (!sending || sampledClients.length === 0) return;
    owed += perSecond / 50;
    while (owed >= 1) {
      owed--;
      const client = sampledClients[sendCursor++ % sampledClients.length];
      if (client.state !== "open") continue;
      const seq = ++client.outSeq;
      client.outUnacked.push(seq);
      sample.sent++;
      send(client, `{"type":"message","seq":${seq},"data":{"n":${seq}}}`);
    }
  }, 20);
}

function connectAll() {
  const stepMs = 20;
  const perStep = Math.max(1, Math.round((config.connectPerSecond * stepMs) / 1000));
  for (let i = 0; i < config.count; i++) {
    const client = makeClient(config.firstIndex + i);
    client.sampled = i < config.sampled;
    clients.push(client);
  }
  let next = 0;
  const pacer = setInterval(() => {
    for (let i = 0; i < perStep && next < config.count; i++, next++) connect(clients[next]);
    if (next === config.count) clearInterval(pacer);
  }, stepMs);
  startPings();
  startMessages();
}

let stopping = false;
function report() {
  const sampledClients = clients.filter((c) => c.sampled);
  return {
    type: "report",
    count: config.count,
    open: clients.filter((c) => c.state === "open").length,
    down: clients.filter((c) => c.state === "down" || c.state === "connecting").length,
    failed: clients.filter((c) => c.state === "failed").length,
    goodbyes,
    resumes,
    notResumed,
    unexpectedCloses,
    failures,
    attemptTimes,
    resumeTimes,
    downtimes,
    sample: {
      clients: sampledClients.length,
      ...sample,
      // Sent but never echoed (after the settle: lost one way or the other), on sessions that resumed.
      missing: sampledClients
        .filter((c) => c.state !== "failed")
        .reduce((sum, c) => sum + (c.outSeq - c.lastEcho), 0),
      // The same on sessions that did not resume: their stream ended with them (counted there).
      cutByFailedResume: sampledClients
        .filter((c) => c.state === "failed")
        .reduce((sum, c) => sum + (c.outSeq - c.lastEcho), 0),
      // Still unacknowledged by the server (its ack is due within one X: not a loss).
      unackedByServer: sampledClients.reduce((sum, c) => sum + c.outUnacked.length, 0),
    },
    lagMaxMs: lag.max / 1e6,
  };
}

process.on("message", (message) => {
  switch (message?.type) {
    case "start":
      config = message.config;
      connectAll();
      break;
    case "messages":
      sending = message.on;
      break;
    case "status":
      process.send({
        type: "status",
        open: clients.filter((c) => c.state === "open").length,
        down: clients.filter((c) => c.state === "down" || c.state === "connecting").length,
        notResumed: clients.filter((c) => c.state === "failed" && c.everOpen).length,
      });
      break;
    case "report":
      process.send(report());
      break;
    case "stop":
      stopping = true;
      for (const c of clients) c.ws?.terminate();
      process.send({ type: "stopped" });
      break;
  }
});

process.on("disconnect", () => process.exit(0));
// An orderly exit on SIGTERM, so that `--cpu-prof` (BENCH_LOAD_NODE_ARGS) gets to write its profile.
process.on("SIGTERM", () => process.exit(0));
process.send({ type: "up" });

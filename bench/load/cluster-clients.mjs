// The load of bench/cluster-cost.mjs: N resumable Heartline connections in one
// process, driven over IPC by the orchestrator. Each connection offers
// `heartline.resume`, numbers its messages, acks the server's every 32 or
// with its next ping (as bench/load/clients.mjs), and keeps its latest token
// so that it can resume elsewhere. Latency is measured per echoed message:
// the message carries its send time (this process's clock), the echo brings
// it back.
//
// IPC commands → answers:
//   {type:"connect", url, n, cps}            → {type:"connected", open, failed, ms}
//   {type:"rate", perSecond}                 (messages per second over all connections; 0 stops)
//   {type:"window-start"} / {type:"window-stop"} → {type:"window", sent, echoes, latencies:{p50,p99,count}, outOfOrder}
//   {type:"ack", on}                         (false: stop acknowledging, so the server keeps what it sends)
//   {type:"resume-all", url, concurrency}    → {type:"resumed-all", ms, resumed, failed, reasons}
//   {type:"close-all"}                       → {type:"closed-all"}
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { summarize } from "../lib/stats.mjs";

const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
const HANDSHAKE_TIMEOUT_MS = 30_000;

/** One connection's state across its sockets. */
function makeConn(index) {
  return {
    index,
    ws: undefined,
    token: undefined,
    sessionId: undefined,
    inSeq: 0,
    unacked: 0,
    outSeq: 0,
    open: false,
  };
}

const conns = [];
let acking = true;
let windowOn = false;
let latencies = [];
let sent = 0;
let echoes = 0;
let outOfOrder = 0;

function ack(conn) {
  conn.ws.send(`{"type":"ack","seq":${conn.inSeq}}`);
  conn.unacked = 0;
}

/** Opens `conn`'s socket to `url` (resuming its session when it has a token); resolves with the welcome or an error. */
function open(conn, url) {
  return new Promise((resolve) => {
    const offer = conn.token === undefined ? "heartline.resume" : `heartline.resume.${conn.token}`;
    const ws = new WebSocket(url, ["heartline.v1", offer], {
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    conn.ws = ws;
    conn.open = false; // until this socket's welcome
    let welcomed = false;
    ws.on("message", (data) => {
      if (conn.ws !== ws) return; // a replaced socket's last frames
      const m = JSON.parse(data.toString());
      if (!welcomed) {
        welcomed = true;
        conn.open = true;
        if (m.resume) conn.token = m.resume.token;
        const resumed = m.resumed !== undefined;
        if (!resumed) conn.inSeq = 0;
        if (!resumed) conn.outSeq = 0;
        conn.sessionId = m.sessionId;
        resolve({ ok: true, resumed, resumeFailed: m.resumeFailed });
        return;
      }
      if (m.type !== "message") return;
      if (m.seq !== undefined) {
        if (m.seq <= conn.inSeq) return; // a replay of what we had
        if (m.seq !== conn.inSeq + 1) outOfOrder++;
        conn.inSeq = m.seq;
        if (++conn.unacked >= 32 && acking) ack(conn);
      }
      if (m.data && typeof m.data.t === "number") {
        echoes++;
        if (windowOn) latencies.push(performance.now() - m.data.t);
      }
    });
    ws.on("error", (error) => {
      if (!welcomed) resolve({ ok: false, reason: error.code ?? error.message });
    });
    ws.on("unexpected-response", (_req, res) => {
      res.resume();
      if (!welcomed) resolve({ ok: false, reason: `http ${res.statusCode}` });
    });
    ws.on("close", () => {
      // A socket replaced by a resume closes late: it must not mark the new one closed.
      if (conn.ws === ws) conn.open = false;
      if (!welcomed) resolve({ ok: false, reason: "closed before welcome" });
    });
  });
}

/** Runs `task` over `items` with at most `limit` at once. */
async function pool(items, limit, task) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  });
  await Promise.all(workers);
}

// Pings: every connection once per interval, spread over the interval.
let pingCursor = 0;
let pingSeq = 0;
setInterval(() => {
  const share = Math.ceil(conns.length / 10);
  for (let i = 0; i < share && conns.length > 0; i++) {
    const conn = conns[pingCursor++ % conns.length];
    if (!conn.open) continue;
    if (conn.unacked > 0 && acking) ack(conn);
    conn.ws.send(`{"type":"ping","seq":${pingSeq++}}`);
  }
}, INTERVAL_MS / 10);

// Messages: `perSecond` in all, in 10 ms slices, round-robin over open connections.
let rateTimer;
let sendCursor = 0;
function setRate(perSecond) {
  clearInterval(rateTimer);
  if (!(perSecond > 0)) return;
  let owed = 0;
  rateTimer = setInterval(() => {
    owed += perSecond / 100;
    while (owed >= 1 && conns.length > 0) {
      owed--;
      const conn = conns[sendCursor++ % conns.length];
      if (!conn.open) continue;
      conn.outSeq++;
      conn.ws.send(`{"type":"message","seq":${conn.outSeq},"data":{"t":${performance.now()}}}`);
      sent++;
    }
  }, 10);
}

process.on("message", async (message) => {
  switch (message?.type) {
    case "connect": {
      const started = performance.now();
      const fresh = Array.from({ length: message.n }, (_, i) => makeConn(conns.length + i));
      conns.push(...fresh);
      let failed = 0;
      // Paced: `cps` new connections per second, at most 200 handshakes in flight.
      const spacing = 1000 / message.cps;
      let i = 0;
      await pool(fresh, 200, async (conn) => {
        const due = started + spacing * i++;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const result = await open(conn, message.url);
        if (!result.ok) failed++;
      });
      process.send({
        type: "connected",
        open: conns.filter((c) => c.open).length,
        failed,
        ms: performance.now() - started,
      });
      break;
    }
    case "rate":
      setRate(message.perSecond);
      break;
    case "window-start":
      latencies = [];
      sent = 0;
      echoes = 0;
      outOfOrder = 0;
      windowOn = true;
      break;
    case "window-stop": {
      windowOn = false;
      process.send({ type: "window", sent, echoes, outOfOrder, latencies: summarize(latencies) });
      break;
    }
    case "ack":
      acking = message.on;
      break;
    case "resume-all": {
      // Every connection comes back with its token, at once (bounded concurrency): the figure is until the last welcome.
      const started = performance.now();
      for (const conn of conns) if (conn.ws && conn.open) conn.ws.terminate();
      const reasons = {};
      let resumed = 0;
      let failed = 0;
      await pool(conns, message.concurrency ?? 200, async (conn) => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const r = await open(conn, message.url);
          if (r.ok && r.resumed) {
            resumed++;
            return;
          }
          const reason = r.ok ? `not resumed: ${r.resumeFailed}` : r.reason;
          reasons[reason] = (reasons[reason] ?? 0) + 1;
          if (r.ok) {
            failed++;
            return;
          }
          await new Promise((res) => setTimeout(res, 50));
        }
        failed++;
      });
      process.send({
        type: "resumed-all",
        ms: performance.now() - started,
        resumed,
        failed,
        reasons,
      });
      break;
    }
    case "close-all":
      setRate(0);
      for (const conn of conns) conn.ws?.terminate();
      conns.length = 0;
      process.send({ type: "closed-all" });
      break;
  }
});

process.on("disconnect", () => process.exit(0));
process.send({ type: "ready" });

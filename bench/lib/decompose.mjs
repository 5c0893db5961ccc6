// Where a silent client's detection error comes from (issue 26). The probe
// measures close frame seen − last frame sent − 2X on its own clock; the
// server knows when it last heard the client and when it judged it. Joined
// on the session id (the welcome's), one client's error splits into three
// parts that add up to it, all on the machine's one wall clock (ms):
//
//   uplink    lastHeardAt − last frame sent: how long the client's last ping
//             took to be read by the server (a lost segment waits for TCP's
//             retransmission timeout, ≥ 200 ms);
//   judged    reported at − lastHeardAt − 2X: the server's own lateness
//             (its event loop, its deadline queue);
//   downlink  close frame seen − reported at: the close frame's way back,
//             and the probe's own loop.
import { summarize } from "./stats.mjs";

/**
 * `client`: [sessionId, lastSentAt, closeSeenAt][]; `server`: [sessionId,
 * lastHeardAt, reportedAt][] (from every server process); `timeoutMs` = 2X.
 */
export function decomposeDetections(client, server, timeoutMs) {
  const byId = new Map(server.map(([id, heard, at]) => [id, { heard, at }]));
  const uplink = [];
  const judged = [];
  const downlink = [];
  let joined = 0;
  let uplinkOver100 = 0;
  for (const [id, sent, seen] of client) {
    const s = byId.get(id);
    if (s === undefined) continue;
    joined++;
    const up = s.heard - sent;
    if (up > 100) uplinkOver100++;
    uplink.push(up);
    judged.push(s.at - s.heard - timeoutMs);
    downlink.push(seen - s.at);
  }
  return {
    joined,
    uplinkOver100,
    uplinkMs: summarize(uplink),
    judgedMs: summarize(judged),
    downlinkMs: summarize(downlink),
  };
}

/** "uplink p99 …, judged p99 …, downlink p99 …" for a log line. */
export function describeDecomposition(d) {
  const f = (s) => `${s.p50?.toFixed(1)} / ${s.p99?.toFixed(1)} / ${s.max?.toFixed(1)}`;
  return (
    `${d.joined} joined; p50 / p99 / max ms: uplink ${f(d.uplinkMs)} ` +
    `(${d.uplinkOver100} over 100 ms), judged ${f(d.judgedMs)}, downlink ${f(d.downlinkMs)}`
  );
}

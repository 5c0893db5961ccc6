// The Markdown report: one table, a row per figure and N, a column per
// server, and Heartline's ratio to the floor and to socket.io.

export const SERVER_ORDER = ["floor", "ws-recipe", "socket.io", "heartline"];
const LABELS = {
  floor: "floor",
  "ws-recipe": "ws recipe",
  "socket.io": "socket.io",
  heartline: "Heartline",
};

/** The figures of the table: a label, how to read it from a result, decimals. */
const FIGURES = [
  { label: "connections open", get: (r) => r.openAtWindowEnd, digits: 0, ratio: false },
  { label: "CPU, % of one core", get: (r) => r.cpu.share * 100, digits: 1 },
  { label: "CPU ms per 1,000 heartbeats", get: (r) => r.cpu.msPer1kHeartbeats, digits: 2 },
  { label: "RSS per connection, KiB", get: (r) => r.memory.bytesPerConnection / 1024, digits: 2 },
  {
    label: "RSS per connection after full GC, KiB",
    get: (r) => r.memory.bytesPerConnectionAfterGc / 1024,
    digits: 2,
  },
  {
    label: "JS heap + external per connection after full GC, KiB",
    get: (r) => r.memory.jsBytesPerConnectionAfterGc / 1024,
    digits: 2,
  },
  { label: "ping RTT p50, ms", get: (r) => r.rttMs.p50, digits: 2 },
  { label: "ping RTT p99, ms", get: (r) => r.rttMs.p99, digits: 2 },
  { label: "detection error p50, ms", get: (r) => r.detectionErrorMs.p50, digits: 1, signed: true },
  { label: "detection error p99, ms", get: (r) => r.detectionErrorMs.p99, digits: 1, signed: true },
  { label: "detection error max, ms", get: (r) => r.detectionErrorMs.max, digits: 1, signed: true },
];

function format(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * Heartline ÷ other. A ratio only means something between two positive
 * figures of the same kind; detection errors can be negative or near zero
 * (a sweep closes early), where a ratio would mislead: those show "—".
 */
function ratio(mine, theirs) {
  if (mine == null || theirs == null) return "—";
  if (!(mine > 0 && theirs > 0) || theirs < 0.05) return "—";
  return `${(mine / theirs).toFixed(2)}×`;
}

/** A server that did not hold N connections through the window: its figures are not for N. */
const short = (result) => result.openAtWindowEnd < 0.99 * result.n;

function cell(result, figure) {
  if (!result) return "—";
  if (result.error) return "error";
  const text = format(figure.get(result), figure.digits);
  return short(result) ? `${text} *` : text;
}

export function renderTable(results, ns) {
  const find = (server, n) => results.find((r) => r.server === server && r.n === n);
  const header = [
    "N",
    "figure",
    ...SERVER_ORDER.map((s) => LABELS[s]),
    "Heartline ÷ floor",
    "Heartline ÷ socket.io",
  ];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const n of ns) {
    for (const figure of FIGURES) {
      const get = (server) => {
        const r = find(server, n);
        return r && !r.error && !short(r) ? figure.get(r) : null;
      };
      const row = [
        n.toLocaleString("en-US"),
        figure.label,
        ...SERVER_ORDER.map((s) => cell(find(s, n), figure)),
        figure.ratio === false ? "" : ratio(get("heartline"), get("floor")),
        figure.ratio === false ? "" : ratio(get("heartline"), get("socket.io")),
      ];
      lines.push(`| ${row.join(" | ")} |`);
    }
  }
  if (results.some((r) => !r.error && short(r))) {
    lines.push(
      "",
      "\\* held fewer than N connections through the steady window (see the JSON's " +
        "`unexpectedCloses`): its figures are for the connections it kept, and no ratio is taken.",
    );
  }
  return lines.join("\n");
}

/** The targets for Heartline at the largest N, each with pass/fail. */
export function checkTargets(results, n) {
  const get = (server) => results.find((r) => r.server === server && r.n === n && !r.error);
  const hl = get("heartline");
  const floor = get("floor");
  const sio = get("socket.io");
  if (!hl) return [`- Heartline has no result at N = ${n}: targets not checked.`];
  const out = [];
  const check = (label, ok, detail) => out.push(`- ${ok ? "PASS" : "MISS"} ${label}: ${detail}`);
  if (floor) {
    const cpu = hl.cpu.share / floor.cpu.share;
    check("CPU within 1.15× the floor", cpu <= 1.15, `${cpu.toFixed(2)}×`);
    const mem = hl.memory.bytesPerConnection / floor.memory.bytesPerConnection;
    const afterGc = hl.memory.bytesPerConnectionAfterGc / floor.memory.bytesPerConnectionAfterGc;
    const js = hl.memory.jsBytesPerConnectionAfterGc / floor.memory.jsBytesPerConnectionAfterGc;
    check(
      "memory per connection within 1.15× the floor",
      mem <= 1.15,
      `${mem.toFixed(2)}× in steady RSS (${afterGc.toFixed(2)}× RSS after full GC, ` +
        `${js.toFixed(2)}× JS heap + external)`,
    );
  }
  const p99 = hl.detectionErrorMs.p99;
  const late = hl.serverStats.afterSilence.lateness;
  check(
    "detection error p99 within 50 ms",
    p99 !== null && Math.abs(p99) <= 50 && hl.detectionErrorMs.undetected === 0,
    `${format(p99, 1)} ms as the clients saw it, ${hl.detectionErrorMs.undetected} undetected` +
      (late
        ? `; by the server's own clock the reports came ${format(late.p50, 0)} / ` +
          `${format(late.p99, 0)} / ${format(late.max, 0)} ms (p50/p99/max) after the deadline`
        : "") +
      `; load generators' worst event-loop stall in that phase ` +
      `${format(hl.detectionErrorMs.loadEventLoopLagMaxMs, 0)} ms`,
  );
  if (sio) {
    const a = hl.cpu.msPer1kHeartbeats;
    const b = sio.cpu.msPer1kHeartbeats;
    check(
      "CPU per heartbeat below socket.io's",
      a < b,
      `${format(a, 2)} vs ${format(b, 2)} ms per 1,000`,
    );
  }
  return out;
}

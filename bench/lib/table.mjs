// The Markdown report: one table, a row per figure and N, a column per
// server, and Heartline's ratio to the floor and to socket.io.

export const SERVER_ORDER = ["floor", "ws-recipe", "socket.io", "heartline"];
const LABELS = {
  floor: "floor",
  "ws-recipe": "ws recipe",
  "socket.io": "socket.io",
  heartline: "Heartline",
};

const perMinute = (tally, count) => (count * 60) / tally.seconds;

/** The figures of the table: a label, how to read it from a result, decimals. */
const FIGURES = [
  { label: "connections open", get: (r) => r.openAtWindowEnd, digits: 0, ratio: false },
  { label: "connect time, s", get: (r) => r.connectSeconds, digits: 1 },
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
  {
    label: "mark-compacts per minute, steady window",
    get: (r) => perMinute(r.gc.steady, r.gc.steady.markCompact.count),
    digits: 1,
  },
  {
    label: "scavenges per minute, steady window",
    get: (r) => perMinute(r.gc.steady, r.gc.steady.scavenge.count),
    digits: 0,
  },
  {
    label: "GC pause per minute (all kinds), steady window, ms",
    get: (r) => perMinute(r.gc.steady, gcPauseMs(r.gc.steady)),
    digits: 0,
  },
  {
    label: "mark-compacts in the silence phase",
    get: (r) => r.gc.silence.markCompact.count,
    digits: 0,
  },
  {
    label: "GC pause in the silence phase (all kinds), ms",
    get: (r) => gcPauseMs(r.gc.silence),
    digits: 0,
  },
  {
    label: "longest GC pause in the silence phase, ms",
    get: (r) => gcMaxPauseMs(r.gc.silence),
    digits: 1,
  },
  {
    label: "server event-loop delay max, silence phase, ms",
    get: (r) => r.gc.silence.loopDelayMaxMs,
    digits: 0,
  },
  { label: "ping RTT p50, ms", get: (r) => r.rttMs.p50, digits: 2 },
  { label: "ping RTT p99, ms", get: (r) => r.rttMs.p99, digits: 2 },
  { label: "detection error p50, ms", get: (r) => r.detectionErrorMs.p50, digits: 1, signed: true },
  { label: "detection error p99, ms", get: (r) => r.detectionErrorMs.p99, digits: 1, signed: true },
  { label: "detection error max, ms", get: (r) => r.detectionErrorMs.max, digits: 1, signed: true },
];

const GC_PAUSE_KINDS = ["scavenge", "markCompact", "incrementalMarking", "weakCallbacks"];
function gcPauseMs(tally) {
  return GC_PAUSE_KINDS.reduce((sum, kind) => sum + tally[kind].totalMs, 0);
}
function gcMaxPauseMs(tally) {
  return Math.max(...GC_PAUSE_KINDS.map((kind) => tally[kind].maxMs));
}

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
 * (a sweep closes early), and GC counts can be 0, where a ratio would
 * mislead: those give null.
 */
function ratioOf(mine, theirs) {
  if (mine == null || theirs == null) return null;
  if (!(mine > 0 && theirs > 0) || theirs < 0.05) return null;
  return mine / theirs;
}

const ratioText = (r) => (r === null ? "—" : `${r.toFixed(2)}×`);

/** A server that did not hold N connections through the window: its figures are not for N. */
const short = (result) => result.openAtWindowEnd < 0.99 * result.n;
const usable = (result) => result && !result.error && !short(result);

/** Median (the mean of the two middle values for an even count) and range of numbers. */
function spread(values) {
  const v = values.filter((x) => x !== null && x !== undefined && !Number.isNaN(x));
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s.at(-1), count: s.length };
}

function spreadText(sp, digits, unit = "") {
  if (sp === null) return "—";
  const m = `${format(sp.median, digits)}${unit}`;
  if (sp.count < 2) return m;
  return `${m} (${format(sp.min, digits)}–${format(sp.max, digits)})`;
}

/** The runs of `server` at `n`, errors included. */
const runsOf = (results, server, n) => results.filter((r) => r.server === server && r.n === n);

/** Heartline ÷ floor per pair (the two runs of one pair index), for one figure. */
function pairRatios(results, n, get) {
  const ratios = [];
  const hl = runsOf(results, "heartline", n).filter(usable);
  for (const h of hl) {
    const f = runsOf(results, "floor", n).find((r) => r.pair === h.pair && usable(r));
    if (f) ratios.push(ratioOf(get(h), get(f)));
  }
  return spread(ratios.filter((r) => r !== null));
}

function cell(results, server, n, figure) {
  const runs = runsOf(results, server, n);
  if (runs.length === 0) return "—";
  if (runs.every((r) => r.error)) return "error";
  const ok = runs.filter(usable);
  if (ok.length === 0) {
    // Only short runs: show them, marked, so the table still says what happened.
    const sp = spread(runs.filter((r) => !r.error).map((r) => figure.get(r)));
    return `${spreadText(sp, figure.digits)} *`;
  }
  return spreadText(spread(ok.map((r) => figure.get(r))), figure.digits);
}

export function renderTable(results, ns) {
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
      const sio = spread(runsOf(results, "socket.io", n).filter(usable).map(figure.get));
      const hl = spread(runsOf(results, "heartline", n).filter(usable).map(figure.get));
      const row = [
        n.toLocaleString("en-US"),
        figure.label,
        ...SERVER_ORDER.map((s) => cell(results, s, n, figure)),
        figure.ratio === false ? "" : spreadText(pairRatios(results, n, figure.get), 2, "×"),
        figure.ratio === false ? "" : ratioText(ratioOf(hl?.median, sio?.median)),
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

/** One line per run: which, in what order, and how busy the machine was around it. */
export function renderLoad(results) {
  return results.map((r, i) => {
    const label = `${i + 1}. ${LABELS[r.server] ?? r.server} at N = ${r.n.toLocaleString("en-US")}`;
    const pair = r.pair === null || r.pair === undefined ? "" : `, pair ${r.pair + 1}`;
    if (r.error) return `- ${label}${pair}: error (${r.error})`;
    const [b1, b5] = r.loadavg.before;
    const [a1, a5] = r.loadavg.after;
    return (
      `- ${label}${pair}: ${b1} → ${a1} (5-minute ${b5} → ${a5}); probe's worst ` +
      `event-loop stall in the silence phase ${format(r.detectionErrorMs.probeEventLoopLagMaxMs, 0)} ms, ` +
      `${r.detectionErrorMs.byCloseFrame} of ${r.detectionErrorMs.count} detections timed by the close frame`
    );
  });
}

/**
 * Issue 17's targets for Heartline at the largest N, each PASS or MISS with
 * its figures: medians of the paired runs, and of the per-pair ratios.
 */
export function checkTargets(results, n, { scale = false } = {}) {
  const hlRuns = runsOf(results, "heartline", n).filter((r) => !r.error);
  if (hlRuns.length === 0) return [`- Heartline has no result at N = ${n}: targets not checked.`];
  const out = [];
  const check = (label, ok, detail) => out.push(`- ${ok ? "PASS" : "MISS"} ${label}: ${detail}`);
  const med = (server, get) => spread(runsOf(results, server, n).filter(usable).map(get));
  const both = (get, digits, unit) => {
    const h = med("heartline", get);
    const f = med("floor", get);
    const r = pairRatios(results, n, get);
    return {
      h,
      f,
      r,
      text:
        `Heartline ${spreadText(h, digits)}${unit}, floor ${spreadText(f, digits)}${unit}; ` +
        `per-pair ratio ${spreadText(r, 2, "×")}`,
    };
  };
  const held = hlRuns.filter((r) => !short(r)).length;
  check(
    `Heartline holds ${n.toLocaleString("en-US")} connections`,
    held === hlRuns.length,
    `${held} of ${hlRuns.length} runs held N through the window ` +
      `(connected: ${hlRuns.map((r) => r.connected.toLocaleString("en-US")).join(", ")})`,
  );
  const p99 = both((r) => r.detectionErrorMs.p99, 1, " ms");
  const undetected = hlRuns.reduce((sum, r) => sum + r.detectionErrorMs.undetected, 0);
  const limit = scale ? 50 : 25;
  check(
    `detection error p99 ≤ ${limit} ms`,
    p99.h !== null && Math.abs(p99.h.median) <= limit && undetected === 0,
    `${p99.text}; ${undetected} undetected`,
  );
  const rss = both((r) => r.memory.bytesPerConnection / 1024, 2, " KiB");
  check("RSS per connection ≤ 1.0× the floor's", rss.r !== null && rss.r.median <= 1, rss.text);
  if (!scale) {
    check("detection error p99 ≤ 1.0× the floor's", p99.r !== null && p99.r.median <= 1, p99.text);
    const cpu = both((r) => r.cpu.msPer1kHeartbeats, 2, " ms per 1,000");
    check("CPU per heartbeat ≤ 1.0× the floor's", cpu.r !== null && cpu.r.median <= 1, cpu.text);
    const gcGet = (r) => perMinute(r.gc.steady, r.gc.steady.markCompact.count);
    const gc = both(gcGet, 1, "/min");
    check(
      "full GCs per minute ≤ the floor's",
      gc.h !== null && gc.f !== null && gc.h.median <= gc.f.median,
      `${gc.text} (medians compared: a ratio of counts near 0 means little)`,
    );
    const sio = spread(
      runsOf(results, "socket.io", n)
        .filter(usable)
        .map((r) => r.cpu.msPer1kHeartbeats),
    );
    const hcpu = med("heartline", (r) => r.cpu.msPer1kHeartbeats);
    if (sio && hcpu) {
      check(
        "CPU per heartbeat below socket.io's",
        hcpu.median < sio.median,
        `${format(hcpu.median, 2)} vs ${format(sio.median, 2)} ms per 1,000`,
      );
    }
  }
  const late = hlRuns
    .map((r) => r.serverStats.afterSilence.lateness)
    .filter((l) => l && l.p99 !== null);
  if (late.length > 0) {
    out.push(
      `- (cross-check) by Heartline's own clock its timeout reports came p99 ` +
        `${late.map((l) => format(l.p99, 0)).join(", ")} ms after the deadline (one per run)`,
    );
  }
  return out;
}

/** The whole Markdown report of a run, from what run.mjs writes to the JSON (also bench/render.mjs). */
export function renderReport({
  date,
  machine,
  intervalMs,
  timing,
  pairs,
  scale,
  ns,
  results,
  notes,
}) {
  const maxN = Math.max(...ns);
  return [
    `# Heartline bench, ${date} (${machine.commit}${machine.dirty ? ", uncommitted changes" : ""})`,
    "",
    `${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, ${machine.os}. ` +
      `X = ${intervalMs} ms, timeout 2X. Servers on core 0, load on core 1. ` +
      `Steady window ${timing.windowMs / 1000} s; 5% of the clients silent for detection, ` +
      `held by a probe process of their own. Floor and Heartline in ${pairs} alternating ` +
      `pair(s) per N: each cell is the median of its runs (min–max in brackets), each ` +
      `Heartline ÷ floor ratio the median of the per-pair ratios (min–max).`,
    "",
    renderTable(results, ns),
    "",
    "Machine load (1-minute loadavg before → after each run; 2 cores, shared):",
    "",
    ...renderLoad(results),
    "",
    `Targets for Heartline at N = ${maxN.toLocaleString("en-US")}:`,
    "",
    ...checkTargets(results, maxN, { scale }),
    ...(notes.length ? ["", ...notes.map((n) => `- ${n}`)] : []),
    "",
  ].join("\n");
}

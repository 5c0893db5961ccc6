// The operations page: one EventSource for the live samples (the server
// samples only while one is open), one fetch per sample for the current page
// of the connections table (paged on the server). Charts are uPlot.

(() => {
  const uPlot = globalThis.uPlot;
  const WINDOW = 300; // samples kept per time chart
  const colors = {
    timeout: "#d92d20",
    client_closed: "#1570ef",
    connection_lost: "#f79009",
    server_closed: "#7a5af8",
    protocol_error: "#ee46bc",
    rate_limited: "#0e9384",
  };
  const statusColors = ["#d92d20", "#f79009", "#7a5af8", "#1570ef", "#0e9384", "#667085"];
  const $ = (id) => document.getElementById(id);

  const charts = {};
  let shape;
  const series = {
    t: [],
    open: [],
    waiting: [],
    disconnects: {},
    rejected: {},
    rttMean: [],
    rttMax: [],
  };
  let statuses = [];
  let latenessCounts = [];
  let latenessWorst = -1;
  let page = 0;
  let pages = 1;
  let tableBusy = false;

  function width(el) {
    return Math.max(280, el.clientWidth);
  }

  function timeChart(id, lines, yLabel) {
    const el = $(id);
    return new uPlot(
      {
        width: width(el),
        height: 180,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [{}, ...lines],
        // Whole seconds at least: samples come once a second.
        axes: [
          { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600] },
          { label: yLabel, size: 50 },
        ],
        legend: { live: false },
      },
      [[], ...lines.map(() => [])],
      el,
    );
  }

  function latenessLabel(i) {
    const bounds = shape.latenessBuckets;
    if (i >= bounds.length) return `>${seconds(bounds[bounds.length - 1])}`;
    return bounds[i] === 0 ? "0" : `≤${seconds(bounds[i])}`;
  }

  function seconds(s) {
    return s < 1 ? `${+(s * 1000).toFixed(1)}ms` : `${s}s`;
  }

  function setup(received) {
    shape = received;
    for (const key of Object.keys(charts)) charts[key].destroy();
    series.t = [];
    series.open = [];
    series.waiting = [];
    series.rttMean = [];
    series.rttMax = [];
    series.disconnects = {};
    for (const reason of shape.reasons) series.disconnects[reason] = [];
    latenessCounts = new Array(shape.latenessBuckets.length + 1).fill(0);
    charts.open = timeChart(
      "chart-open",
      [
        { label: "open", stroke: "#1570ef", fill: "rgba(21,112,239,0.08)", width: 2 },
        // Resumable sessions whose connection is gone, waiting for their client.
        { label: "sessions waiting", stroke: "#b54708", width: 2, dash: [6, 4] },
      ],
      "connections",
    );
    charts.disconnects = timeChart(
      "chart-disconnects",
      shape.reasons.map((reason) => ({
        label: reason,
        stroke: colors[reason] ?? "#667085",
        width: 2,
      })),
      "per second",
    );
    charts.rtt = timeChart(
      "chart-rtt",
      [
        { label: "mean", stroke: "#0e9384", width: 2 },
        { label: "max", stroke: "#f79009", width: 1, dash: [4, 4] },
      ],
      "ms",
    );
    statuses = [];
    series.rejected = {};
    charts.rejected = timeChart("chart-rejected", [], "per second");
    const el = $("chart-lateness");
    const xs = latenessCounts.map((_, i) => i);
    charts.lateness = new uPlot(
      {
        width: width(el),
        height: 180,
        scales: {
          x: { time: false, range: [-0.5, xs.length - 0.5] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        series: [
          { label: "lateness", value: (_u, v) => (v == null ? "–" : latenessLabel(v)) },
          {
            label: "timeouts",
            stroke: "#d92d20",
            fill: "rgba(217,45,32,0.35)",
            paths: uPlot.paths.bars({ size: [0.7] }),
            points: { show: false },
          },
        ],
        axes: [
          {
            splits: () => xs,
            values: (_u, splits) => splits.map((i) => latenessLabel(i)),
            rotate: -40,
            size: 56,
          },
          { label: "timeouts", size: 50 },
        ],
        legend: { live: false },
      },
      [xs, latenessCounts.slice()],
      el,
    );
  }

  function addStatus(status) {
    statuses.push(status);
    series.rejected[status] = series.t.map(() => 0);
    charts.rejected.addSeries(
      {
        label: status,
        stroke: statusColors[(statuses.length - 1) % statusColors.length],
        width: 2,
      },
      statuses.length,
    );
  }

  function push(list, value) {
    list.push(value);
    if (list.length > WINDOW) list.shift();
  }

  function onSample(sample) {
    if (shape === undefined) return;
    push(series.t, sample.t / 1000);
    push(series.open, sample.open);
    push(series.waiting, sample.sessions.waiting);
    for (const reason of shape.reasons)
      push(series.disconnects[reason], sample.disconnects[reason]);
    for (const status of Object.keys(sample.totals.rejected).sort()) {
      if (!statuses.includes(status)) addStatus(status);
    }
    for (const status of statuses) push(series.rejected[status], sample.rejected[status] ?? 0);
    push(series.rttMean, sample.rtt === null ? null : sample.rtt.mean);
    push(series.rttMax, sample.rtt === null ? null : sample.rtt.max);
    sample.lateness.forEach((n, i) => {
      latenessCounts[i] += n;
      if (n > 0 && i > latenessWorst) latenessWorst = i;
    });

    charts.open.setData([series.t, series.open, series.waiting]);
    charts.disconnects.setData([series.t, ...shape.reasons.map((r) => series.disconnects[r])]);
    charts.rtt.setData([series.t, series.rttMean, series.rttMax]);
    charts.rejected.setData([series.t, ...statuses.map((s) => series.rejected[s])]);
    charts.lateness.setData([latenessCounts.map((_, i) => i), latenessCounts.slice()]);

    const totals = sample.totals;
    $("open").textContent = String(sample.open);
    $("sessions-waiting").textContent = String(sample.sessions.waiting);
    $("sessions-resumed").textContent = String(sample.sessions.resumed);
    $("sessions-ended").textContent = String(sample.sessions.ended);
    $("sessions-evicted").textContent = String(sample.sessions.evicted);
    $("total-timeout").textContent = String(totals.disconnects.timeout);
    $("total-disconnects").textContent = String(
      Object.values(totals.disconnects).reduce((a, b) => a + b, 0),
    );
    $("total-rejected").textContent = String(
      Object.values(totals.rejected).reduce((a, b) => a + b, 0),
    );
    $("lateness-count").textContent = String(latenessCounts.reduce((a, b) => a + b, 0));
    $("lateness-worst").textContent = latenessWorst < 0 ? "–" : latenessLabel(latenessWorst);
    if (sample.rtt !== null)
      $("rtt-note").textContent = `Last second: ${sample.rtt.count} reports.`;
    renderTotals("disconnect-totals", "reason", shape.reasons, (r) => totals.disconnects[r]);
    renderTotals("rejected-totals", "status", statuses, (s) => totals.rejected[s]);
    refreshTable();
  }

  function renderTotals(id, key, keys, value) {
    const list = $(id);
    list.replaceChildren(
      ...keys.map((k) => {
        const li = document.createElement("li");
        li.dataset[key] = k;
        const b = document.createElement("b");
        b.textContent = String(value(k) ?? 0);
        li.append(`${k} `, b);
        return li;
      }),
    );
  }

  function duration(ms) {
    const s = Math.max(0, ms) / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  async function refreshTable() {
    if (tableBusy) return;
    tableBusy = true;
    try {
      const response = await fetch(`connections?page=${page}`, { cache: "no-store" });
      if (!response.ok) return;
      const body = await response.json();
      page = body.page;
      pages = Math.max(1, Math.ceil(body.total / body.pageSize));
      $("page-info").textContent =
        `${body.total} open · page ${body.page + 1} of ${pages} (${body.pageSize} per page)`;
      $("prev").disabled = page === 0;
      $("next").disabled = page >= pages - 1;
      $("connections")
        .querySelector("tbody")
        .replaceChildren(
          ...body.rows.map((row) => {
            const tr = document.createElement("tr");
            tr.dataset.session = row.sessionId;
            for (const text of [
              row.sessionId,
              row.remoteAddress ?? "–",
              duration(row.connectedForMs),
              `${duration(row.lastHeardAgoMs)} ago`,
            ]) {
              const td = document.createElement("td");
              td.textContent = text;
              tr.append(td);
            }
            return tr;
          }),
        );
    } finally {
      tableBusy = false;
    }
  }

  $("prev").addEventListener("click", () => {
    page = Math.max(0, page - 1);
    void refreshTable();
  });
  $("next").addEventListener("click", () => {
    page = Math.min(pages - 1, page + 1);
    void refreshTable();
  });
  window.addEventListener("resize", () => {
    for (const [id, chart] of Object.entries(charts)) {
      chart.setSize({ width: width($(`chart-${id}`)), height: 180 });
    }
  });

  const events = new EventSource("events");
  events.addEventListener("shape", (event) => setup(JSON.parse(event.data)));
  events.onmessage = (event) => onSample(JSON.parse(event.data));
  events.onopen = () => {
    $("status").textContent = "live";
    $("status").dataset.state = "live";
  };
  events.onerror = () => {
    $("status").textContent = "reconnecting…";
    $("status").dataset.state = "reconnecting";
  };
})();

// What Heartline's own per-frame path keeps past a scavenge, without sockets:
// N connections of the transport-free core on an in-memory transport, fed
// `{"type":"ping","seq":n}` at X = 1 s for a fixed time, next to the same
// frames through the floor's handler (JSON.parse, a refreshed setTimeout, a
// JSON.stringify'd pong). Both run in this one process, one after the other,
// so `ws`, the kernel and the machine's load are out of the picture: what is
// left is what each handler allocates that outlives a young-generation GC.
//
//   node --expose-gc bench/alloc-core.mjs [--n=15000] [--seconds=10] [--timeout-ms=2000]
//                                         [--only=floor|heartline] [--heap-profile=DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { constants, PerformanceObserver, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "15000" },
    seconds: { type: "string", default: "10" },
    "heap-profile": { type: "string" },
    only: { type: "string" },
    // With a real timeout (2X), the deadline queue's batches run as in a server.
    "timeout-ms": { type: "string", default: "2000" },
  },
});
const N = Number(args.n);
const SECONDS = Number(args.seconds);
const INTERVAL_MS = 1000;
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

async function loadCore() {
  const { build } = await import("esbuild");
  const outfile = here("./.build/heartline-core.mjs");
  await build({
    stdin: {
      contents: 'export { createServerCore } from "@heartline/server/core";',
      resolveDir: here("./"),
    },
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["heartline-source"],
    logLevel: "warning",
  });
  return import(outfile);
}

/** An in-memory transport: counts what is sent, never buffers. */
class MemoryTransport {
  bufferedAmount = 0;
  sent = 0;
  send(_text) {
    this.sent++;
  }
  close() {}
  terminate() {}
}

let session;
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );

/** Feeds every connection one ping per X (in 10 ms slices) for SECONDS; returns GC figures. */
async function drive(name, receivers) {
  globalThis.gc();
  const tally = { scavenge: 0, markCompact: 0, scavengeMs: 0, markCompactMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) continue;
      if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        tally.scavenge++;
        tally.scavengeMs += entry.duration;
      } else if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        tally.markCompact++;
        tally.markCompactMs += entry.duration;
      }
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  if (args["heap-profile"]) {
    session = new Session();
    session.connect();
    await post("HeapProfiler.enable");
    await post("HeapProfiler.startSampling", {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    });
  }
  const oldBefore = getHeapStatistics().total_heap_size;
  const oldUsed = () =>
    getHeapSpaceStatistics().find((s) => s.space_name === "old_space").space_used_size;
  const oldUsedBefore = oldUsed();
  // Markers for --trace-gc-nvp readers: the lines between them are this window's.
  process.stdout.write(`window-start ${name}\n`);
  const start = performance.now();
  const seqs = new Float64Array(receivers.length);
  let next = 0;
  let frames = 0;
  await new Promise((resolve) => {
    const slice = () => {
      const elapsed = performance.now() - start;
      if (elapsed >= SECONDS * 1000) return resolve();
      // Deliver the frames due by now: N per X, round-robin.
      const due = Math.floor((elapsed / INTERVAL_MS) * receivers.length);
      while (frames < due) {
        const i = next;
        next = next + 1 === receivers.length ? 0 : next + 1;
        receivers[i](`{"type":"ping","seq":${seqs[i]++}}`);
        frames++;
      }
      setTimeout(slice, 10);
    };
    slice();
  });
  const seconds = (performance.now() - start) / 1000;
  const oldGrowth = oldUsed() - oldUsedBefore;
  process.stdout.write(`window-end ${name}\n`);
  let profilePath = null;
  if (args["heap-profile"]) {
    const { profile } = await post("HeapProfiler.stopSampling");
    mkdirSync(args["heap-profile"], { recursive: true });
    profilePath = `${args["heap-profile"]}/core-${name}-${N}-${Date.now()}.heapprofile`;
    writeFileSync(profilePath, JSON.stringify(profile));
    session.disconnect();
  }
  await new Promise((r) => setImmediate(r));
  observer.disconnect();
  if (receivers.stats) {
    const { open, framesIn, framesOut } = receivers.stats();
    process.stdout.write(`${name}: ${open} open, ${framesIn} frames in, ${framesOut} out\n`);
  }
  return {
    name,
    frames,
    seconds,
    scavengesPerMinute: (tally.scavenge * 60) / seconds,
    markCompactsPerMinute: (tally.markCompact * 60) / seconds,
    gcMsPerMinute: ((tally.scavengeMs + tally.markCompactMs) * 60) / seconds,
    heapGrowthMiB: (getHeapStatistics().total_heap_size - oldBefore) / 2 ** 20,
    // Old space filled during the window (promoted or allocated there directly): what a full GC must clear.
    oldGrowthMiB: oldGrowth / 2 ** 20,
    profilePath,
  };
}

/** The floor's per-connection handler, as bench/servers/floor.mjs has it (minus the socket). */
function floorReceivers() {
  const receivers = [];
  for (let i = 0; i < N; i++) {
    const transport = new MemoryTransport();
    const timer = setTimeout(() => {}, 2 * INTERVAL_MS * 1000);
    receivers.push((text) => {
      timer.refresh();
      const message = JSON.parse(text);
      if (message.type === "ping")
        transport.send(JSON.stringify({ type: "pong", seq: message.seq }));
    });
  }
  return receivers;
}

async function heartlineReceivers() {
  const { createServerCore } = await loadCore();
  // Every connection pings each X, so none times out: the queue only pushes deadlines back.
  const core = createServerCore({ intervalMs: 1000, timeoutMs: Number(args["timeout-ms"]) });
  const receivers = [];
  for (let i = 0; i < N; i++) {
    const sink = core.accept(new MemoryTransport(), { auth: undefined });
    receivers.push((text) => sink.receive(text));
  }
  receivers.stats = () => core.stats();
  return receivers;
}

const results = [];
if (!args.only || args.only === "floor") results.push(await drive("floor", floorReceivers()));
if (!args.only || args.only === "heartline") {
  results.push(await drive("heartline", await heartlineReceivers()));
}
for (const r of results) {
  process.stdout.write(
    `${r.name.padEnd(10)} ${r.frames} frames in ${r.seconds.toFixed(1)} s: ` +
      `${r.scavengesPerMinute.toFixed(0)} scavenges/min, ${r.markCompactsPerMinute.toFixed(1)} ` +
      `mark-compacts/min, GC ${r.gcMsPerMinute.toFixed(0)} ms/min, heap grew ` +
      `${r.heapGrowthMiB.toFixed(1)} MiB, old space filled ${r.oldGrowthMiB.toFixed(2)} MiB${r.profilePath ? `, ${r.profilePath}` : ""}\n`,
  );
}
process.exit(0);

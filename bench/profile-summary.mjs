// Where a server's time goes: self time of a `node --cpu-prof` profile,
// by function and by origin (GC, ws, zod, Heartline protocol/server, node).
//
//   node bench/profile-summary.mjs bench/results/profiles/<file>.cpuprofile [top=25]
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node bench/profile-summary.mjs <file.cpuprofile> [top]\n");
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, "utf8"));
const top = Number(topArg ?? 25);

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
}

function origin(frame) {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)") return "idle";
  if (functionName === "(program)") return "program (native, unattributed)";
  if (url.includes("/ws/lib/")) return "ws";
  if (url.includes("zod")) return "zod";
  if (url.includes("packages/protocol/")) return "@heartline/protocol";
  if (url.includes("packages/server/")) return "@heartline/server";
  if (url.includes("heartline-server.mjs")) return "heartline bundle";
  if (url.includes("socket.io") || url.includes("engine.io")) return "socket.io/engine.io";
  if (url.startsWith("node:")) return "node core";
  if (url === "") return "native/builtin";
  return url.replace(/^.*\/bench\//, "bench/");
}

const byFunction = new Map();
const byOrigin = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const frame = byId.get(id).callFrame;
  const place = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\//, "")}:${frame.lineNumber + 1}`;
  byFunction.set(place, (byFunction.get(place) ?? 0) + us);
  const o = origin(frame);
  byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
  total += us;
}
const busy = total - (byOrigin.get("idle") ?? 0);
const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
const sortDesc = (map) => [...map].sort((a, b) => b[1] - a[1]);

process.stdout.write(
  `busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled\n\nby origin (share of busy time):\n`,
);
for (const [name, us] of sortDesc(byOrigin))
  if (name !== "idle") process.stdout.write(`  ${pct(us)}  ${name}\n`);
process.stdout.write(`\ntop ${top} functions by self time:\n`);
for (const [name, us] of sortDesc(byFunction).slice(0, top + 1)) {
  if (!name.startsWith("(idle)")) process.stdout.write(`  ${pct(us)}  ${name}\n`);
}

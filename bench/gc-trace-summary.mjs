// Sums V8's --trace-gc-nvp lines per server process and phase (steady
// window, then silence), from a `pnpm bench --trace-gc` run's stdout.
//
//   node bench/run.mjs --trace-gc … > run.out; node bench/gc-trace-summary.mjs run.out
import { readFileSync } from "node:fs";

const lines = readFileSync(process.argv[2], "utf8").split("\n");
const phases = new Map(); // pid → phase index
const sums = [];
const field = (line, key) => Number(new RegExp(`\\b${key}=([0-9.]+)`).exec(line)?.[1] ?? 0);
for (const line of lines) {
  const marker = /^bench-phase-(start|end) pid=(\d+)/.exec(line);
  if (marker) {
    const [, what, pid] = marker;
    if (what === "start") {
      const index = sums.push({
        pid,
        scavenges: 0,
        markCompacts: 0,
        promoted: 0,
        survived: 0,
        pauseMs: 0,
      });
      phases.set(pid, index - 1);
    } else phases.delete(pid);
    continue;
  }
  const pid = /^\[(\d+):/.exec(line)?.[1];
  if (!pid || !phases.has(pid)) continue;
  const sum = sums[phases.get(pid)];
  const kind = /\bgc=(\w+)/.exec(line)?.[1];
  if (kind === "s") {
    sum.scavenges++;
    sum.promoted += field(line, "promoted");
    sum.survived += field(line, "new_space_survived");
  } else if (kind === "mc" || kind === "mmc") sum.markCompacts++;
  sum.pauseMs += field(line, "pause");
}
const mib = (b) => (b / 2 ** 20).toFixed(2);
for (const s of sums) {
  process.stdout.write(
    `pid ${s.pid}: ${s.scavenges} scavenges, ${s.markCompacts} mark-compacts, promoted ` +
      `${mib(s.promoted)} MiB, survived in new space ${mib(s.survived)} MiB, pauses ${s.pauseMs.toFixed(0)} ms\n`,
  );
}

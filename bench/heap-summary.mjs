// What a server allocated that outlived a scavenge: the top allocation sites
// of a `--heap-profile` sampling profile (V8's sampling heap profiler over the
// steady window, objects a minor GC collected left out), by self size and by
// stack, as bytes per second of the window.
//
//   node bench/heap-summary.mjs bench/results/profiles/<file>.heapprofile [top=15] [window-seconds]
import { readFileSync } from "node:fs";

const [file, topArg, secondsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node bench/heap-summary.mjs <file.heapprofile> [top] [seconds]\n");
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, "utf8"));
const top = Number(topArg ?? 15);
const seconds = Number(secondsArg ?? 20);

const short = (url) =>
  url
    .replace(/^file:\/\//, "")
    .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/.*\/bench\/\.build\//, "bundle:");
const frameName = ({ functionName, url, lineNumber }) =>
  `${functionName || "(anonymous)"} ${url ? `${short(url)}:${lineNumber + 1}` : "(native)"}`;

const sites = new Map();
let total = 0;
function walk(node, stack) {
  const here = [...stack, frameName(node.callFrame)];
  if (node.selfSize > 0) {
    const key = here.slice(-4).reverse().join(" ← ");
    sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child, here);
}
walk(profile.head, []);

const kib = (bytes) => (bytes / 1024).toFixed(1).padStart(9);
process.stdout.write(
  `${file}\nsampled, survived a scavenge: ${kib(total)} KiB in total, ` +
    `${kib(total / seconds)} KiB/s over ${seconds} s\n\n  KiB/s    share  site (innermost frame first)\n`,
);
for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(
    `${kib(bytes / seconds)}  ${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${site}\n`,
  );
}

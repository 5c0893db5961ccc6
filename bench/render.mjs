// Writes a run's Markdown report again from its JSON, with the current table
// code (after a change to how figures are summarised).
//
//   node bench/render.mjs bench/results/<name>.json   → bench/results/<name>.md
import { readFileSync, writeFileSync } from "node:fs";
import { renderReport } from "./lib/table.mjs";

const file = process.argv[2];
if (!file?.endsWith(".json")) {
  process.stderr.write("usage: node bench/render.mjs <run>.json\n");
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, "utf8"));
// Runs written before the scale flag was stored: a scale run has X = 15 s.
report.scale ??= report.intervalMs === 15_000;
report.pairs ??= 1;
writeFileSync(file.replace(/\.json$/, ".md"), renderReport(report));
process.stdout.write(`wrote ${file.replace(/\.json$/, ".md")}\n`);

// The canary (issue 20, point 2), never part of `pnpm test`: the packaging
// test's consumer checks with no pins, so npm and pnpm install the newest
// versions the published ranges allow, as a user installing today gets them.
// Prints which installed versions differ from pnpm-lock.yaml, then each check
// that failed with the first lines of why; exits 1 when one did.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = fs.mkdtempSync(path.join(os.tmpdir(), "heartline-check-latest-"));
const report = path.join(out, "vitest.json");
const drift = path.join(out, "drift.json");

console.log("check:latest: the consumer checks with the newest versions the ranges allow…");
const run = spawnSync(
  path.join(root, "node_modules/.bin/vitest"),
  [
    "run",
    "tests/packaging.test.ts",
    // Only what a consumer installs: the tarball and release checks do not
    // depend on the registry.
    "-t",
    "installed with",
  ],
  {
    cwd: root,
    encoding: "utf8",
    env: {
      ...process.env,
      HEARTLINE_CONSUMER_VERSIONS: "latest",
      HEARTLINE_VITEST_JSON: report,
      HEARTLINE_CANARY_DRIFT: drift,
    },
    maxBuffer: 64 * 1024 * 1024,
  },
);

const differs = fs.existsSync(drift) ? JSON.parse(fs.readFileSync(drift, "utf8")) : {};
for (const [consumer, lines] of Object.entries(differs)) {
  console.log(`\n${consumer}: installed versions that differ from pnpm-lock.yaml`);
  for (const line of lines.length ? lines : ["(none)"]) console.log(`  ${line}`);
}

if (!fs.existsSync(report)) {
  console.log(`\nvitest wrote no report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  process.exit(1);
}
const results = JSON.parse(fs.readFileSync(report, "utf8"));
const failed = results.testResults.flatMap((file) => {
  const tests = file.assertionResults
    .filter((t) => t.status === "failed")
    .map((t) => ({ name: t.fullName, why: t.failureMessages.join("\n") }));
  // A failed setup (an install that broke) fails the file, not a test.
  return file.status === "failed" && tests.length === 0
    ? [{ name: `${path.relative(root, file.name)} (setup)`, why: file.message ?? "" }]
    : tests;
});
const passed = results.numPassedTests;
console.log(`\n${passed} consumer checks passed, ${failed.length} broke with the newest versions`);
for (const { name, why } of failed) {
  // The errors themselves (tsc's "error TS…" lines), not the stack.
  const lines = why
    .split("\n")
    .filter((l) => /error|Error|failed|expected/.test(l) && !/^\s+at /.test(l));
  const unique = [...new Set(lines.map((l) => l.replace(/^[+-]?\s+/, "")))];
  console.log(`\n✗ ${name}\n  ${unique.slice(0, 12).join("\n  ")}`);
}
fs.rmSync(out, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);

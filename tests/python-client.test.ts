// The Python client (issue 27, point 5): its JSON Schema matches the zod
// schemas it was generated from, its unittest suite passes, and it passes
// every case of the conformance kit's client side; two broken variants of
// it fail the cases no Node variant covers (pacing, 4401).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runClientSuite } from "@heartline/conformance";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/packages.js";
import { pythonSchemaPath, pythonSchemaText } from "./support/python-schema.js";

// Debian's interpreter is the one python3-websockets installs into (.ci/run).
const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const clientDir = path.join(repoRoot, "clients/python");
const withPath = ["env", `PYTHONPATH=${path.join(clientDir, "src")}`, python];

// As for Chromium, nginx and Redis: without Python's websockets the cases
// that run the client say so and are skipped, except under CI=true (where
// .ci/run installs python3-websockets), where they must run.
const hasWebsockets = spawnSync(python, ["-c", "import websockets"]).status === 0;
if (!hasWebsockets) {
  const message = `${python} cannot import websockets (Debian: apt-get install -y python3-websockets).`;
  if (process.env.CI === "true")
    throw new Error(`${message} CI=true requires the Python client tests.`);
  console.warn(`${message} The Python client tests are skipped.`);
}
const itWithPython = hasWebsockets ? it : it.skip;

describe("the Python client", () => {
  it("validates with the JSON Schema generated from @heartline/protocol (no drift)", () => {
    // On failure: node --import tsx --conditions heartline-source tests/support/python-schema.ts --write
    const committed: unknown = JSON.parse(fs.readFileSync(pythonSchemaPath, "utf8"));
    expect(committed).toEqual(JSON.parse(pythonSchemaText()));
  });

  itWithPython("passes its unittest suite", () => {
    const run = spawnSync(python, ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
      cwd: clientDir,
      env: { ...process.env, PYTHONPATH: path.join(clientDir, "src") },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const ran = Number(/Ran (\d+) tests?/.exec(run.stderr)?.[1]);
    expect(ran).toBeGreaterThanOrEqual(19);
    expect(run.stderr).toMatch(/\nOK\n/);
  });

  itWithPython(
    "passes every case of the kit's client side",
    async () => {
      const tap: string[] = [];
      const result = await runClientSuite(
        { command: [...withPath, "-m", "heartline.conformance_driver"] },
        { write: (line) => tap.push(line) },
      );
      expect(
        result.cases.filter((c) => c.status !== "passed"),
        tap.join("\n"),
      ).toEqual([]);
      expect(tap.at(-1)).toBe(`${result.passed} passed, 0 failed`);
    },
    120_000,
  );

  itWithPython.each([
    ["no-pacing", "client.paces-to-the-rate"],
    ["retries-on-4401", "client.stops-on-4401"],
  ])(
    "broken variant %s fails %s",
    async (variant, catches) => {
      const fixture = path.join(repoRoot, "tests/fixtures/conformance/broken_python_client.py");
      const result = await runClientSuite(
        { command: [...withPath, fixture, variant] },
        { only: [catches] },
      );
      expect(result.cases.map((c) => [c.id, c.status])).toEqual([[catches, "failed"]]);
    },
    30_000,
  );
});

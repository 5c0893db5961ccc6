import { defineConfig } from "vitest/config";

// Every package's `exports` map has a "heartline-source" condition pointing at
// its src/ entry, so tests (and tsx) run against source with no build step.
const resolve = { conditions: ["heartline-source"] };

// The packaging and documentation checks spend minutes of CPU in child
// processes (tsc, attw, typedoc, pnpm pack). They run as a second group,
// after every other test file has finished, so they never compete for the
// machine's cores with the timing-sensitive fault and browser tests.
const heavyChecks = [
  "tests/packaging.test.ts",
  "tests/readme-code.test.ts",
  "tests/api-docs.test.ts",
];

export default defineConfig({
  resolve,
  ssr: { resolve },
  test: {
    // .ci/run reads the JSON report; `pnpm check:latest` asks for its own file.
    reporters: [
      "default",
      ["json", { outputFile: process.env.HEARTLINE_VITEST_JSON ?? "test-results/vitest.json" }],
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "behaviour",
          include: [
            "packages/*/test/**/*.test.ts",
            "tests/**/*.test.ts",
            "examples/*/test/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**", ...heavyChecks],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "checks", include: heavyChecks, sequence: { groupOrder: 1 } },
      },
    ],
  },
});

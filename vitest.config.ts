import { defineConfig } from "vitest/config";

// Every package's `exports` map has a "heartline-source" condition pointing at
// its src/ entry, so tests (and tsx) run against source with no build step.
export default defineConfig({
  resolve: { conditions: ["heartline-source"] },
  ssr: { resolve: { conditions: ["heartline-source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});

// The conformance kit's client side (issue 27, point 4): @heartline/client,
// through the kit's own driver, passes every case that runs; each broken
// client fails the case for its rule. Each case starts a fresh client
// process and a scripted server on port 0; X = 300 ms, tolerance 100 ms.
import path from "node:path";
import { clientCases, runClientSuite } from "@heartline/conformance";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/packages.js";

const tsx = [process.execPath, "--import", "tsx", "--conditions", "heartline-source"];
const driver = [
  ...tsx,
  path.join(repoRoot, "packages/conformance/src/cli.ts"),
  "drive-heartline-client",
];
const broken = (variant: string) => [
  ...tsx,
  path.join(repoRoot, "tests/fixtures/conformance/broken-client.ts"),
  variant,
];

describe("@heartline/client passes the kit's client side", () => {
  it("every case passes or is skipped for an undeclared feature", async () => {
    const tap: string[] = [];
    const result = await runClientSuite({ command: driver }, { write: (line) => tap.push(line) });
    const failed = result.cases.filter((c) => c.status === "failed");
    expect(failed, tap.join("\n")).toEqual([]);
    // Pacing to welcome.rate and stopping on 4401 come with issues 21 and 23:
    // the driver declares them once the client has them (README: features).
    expect(result.cases.filter((c) => c.status === "skipped").map((c) => c.id)).toEqual([
      "client.paces-to-the-rate",
      "client.stops-on-4401",
    ]);
    expect(tap.at(-1)).toBe(`${result.passed} passed, 0 failed, 2 skipped`);
  }, 120_000);
});

/** Each broken client and the cases that must catch it. */
const brokenClients: [variant: string, catches: string[]][] = [
  ["pings-at-2x", ["client.pings-on-the-welcome-terms"]],
  ["never-detects-silence", ["client.detects-a-silent-server", "client.any-frame-is-life"]],
  ["closes-1001", ["client.close-is-1000"]],
  ["ignores-goodbye", ["client.goodbye-window"]],
  ["never-reconnects", ["client.reconnects-with-backoff", "client.goodbye-window"]],
  ["no-backoff", ["client.reconnects-with-backoff"]],
  ["no-resume", ["client.resume-replay-acks"]],
  ["no-replay", ["client.resume-replay-acks"]],
  ["delivers-duplicates", ["client.resume-replay-acks"]],
  ["never-acks", ["client.resume-replay-acks", "client.acks-32-at-once"]],
];

describe("each broken client fails the case for its rule", () => {
  it("covers every client case with a broken client (pacing and 4401: the Python variants)", () => {
    const caught = new Set([
      ...brokenClients.flatMap(([, catches]) => catches),
      // tests/python-client.test.ts: no-pacing, retries-on-4401.
      "client.paces-to-the-rate",
      "client.stops-on-4401",
    ]);
    expect(clientCases.map((c) => c.id).filter((id) => !caught.has(id))).toEqual([]);
  });

  it.each(brokenClients)(
    "%s fails %j",
    async (variant, catches) => {
      const result = await runClientSuite({ command: broken(variant) }, { only: catches });
      const statuses = result.cases.map((c) => [c.id, c.status]).sort();
      expect(statuses).toEqual(catches.map((id) => [id, "failed"]).sort());
    },
    60_000,
  );
});

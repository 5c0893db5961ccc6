// Runs the size budget (scripts/size.mjs, also `pnpm size`) in the test
// suite, so CI fails when the browser bundle passes 8 KiB or pulls in Node code.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../../scripts/size.mjs", import.meta.url));

describe("the browser bundle", () => {
  it("is at most 8192 bytes min+gzip, with no Node built-ins", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000 });
    const match = /client browser bundle: (\d+) bytes min\+gzip \(budget 8192\)/.exec(stdout);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeLessThanOrEqual(8192);
  });
});

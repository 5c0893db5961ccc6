// The API reference (issue 14, point 5): TypeDoc converts every published
// package's entry points (typedoc.config.mjs reads them from the exports
// maps) and fails on any exported declaration without a doc comment
// (`validation.notDocumented`, warnings as errors). `pnpm docs` writes the
// same reference to docs/api/.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { publishedPackages, repoRoot } from "./support/packages.js";

const run = promisify(execFile);

describe("the API reference", () => {
  it("covers every entry point of every published package", async () => {
    const config = (await import(path.join(repoRoot, "typedoc.config.mjs"))) as {
      default: { entryPoints: string[]; packagesRequiringDocumentation: string[] };
    };
    const expected = publishedPackages.flatMap(({ dir, json }) =>
      Object.values(json.exports ?? {}).flatMap((target) => {
        const source = (target as Record<string, string>)["heartline-source"];
        return source ? [path.join(dir, source)] : [];
      }),
    );
    expect(config.default.entryPoints.sort()).toEqual(expected.sort());
    expect(config.default.packagesRequiringDocumentation.sort()).toEqual(
      publishedPackages.map((p) => p.json.name).sort(),
    );
  });

  it("documents every exported declaration (typedoc, warnings as errors)", async () => {
    const typedoc = path.join(repoRoot, "node_modules/.bin/typedoc");
    const result = await run(typedoc, ["--emit", "none"], { cwd: repoRoot }).then(
      (r) => ({ ok: true, output: `${r.stdout}${r.stderr}` }),
      (e: { stdout: string; stderr: string }) => ({ ok: false, output: `${e.stdout}${e.stderr}` }),
    );
    expect(result.ok, `typedoc found undocumented or broken API docs:\n${result.output}`).toBe(
      true,
    );
  }, 120_000);
});

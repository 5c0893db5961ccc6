// Every TypeScript block in the root README and the package READMEs compiles
// as written (issue 14, point 3), and the complete programs among them run.
// Blocks are written to tests/.readme-code/ (gitignored), where the
// workspace packages resolve to their src/ as in every other test.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  blockFileName,
  type CodeBlock,
  describeBlock,
  extractBlocks,
  typecheckBlocks,
} from "./support/readme-code.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = path.join(root, "tests/.readme-code");
const readmes = [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "packages"))
    .map((p) => `packages/${p}/README.md`)
    .filter((p) => fs.existsSync(path.join(root, p))),
];
const blocks = readmes.flatMap((readme) =>
  extractBlocks(readme, fs.readFileSync(path.join(root, readme), "utf8")),
);
const checked = blocks.filter((b) => b.mode !== "fragment");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);

let errors: Map<CodeBlock, string[]>;
beforeAll(() => {
  const started = performance.now();
  errors = typecheckBlocks(blocks, outDir, path.join(root, "tsconfig.base.json"));
  console.log(
    `README code: ${checked.length} blocks typechecked (${blocks.length - checked.length} fragments) ` +
      `in ${Math.round(performance.now() - started)} ms`,
  );
}, 60_000);

describe("README TypeScript blocks", () => {
  it("finds the blocks of every README", () => {
    expect(readmes.length).toBeGreaterThanOrEqual(6);
    expect(checked.length).toBeGreaterThan(0);
  });

  it.each(checked.map((b) => [describeBlock(b), b] as const))("%s typechecks", (name, block) => {
    const found = errors.get(block) ?? ["not typechecked"];
    expect(found, `${name} does not compile:\n  ${found.join("\n  ")}`).toEqual([]);
  });

  const runnable = blocks.filter((b) => b.mode === "run" || b.mode === "vitest");
  it.each(runnable.map((b) => [describeBlock(b), b] as const))("%s runs", (name, block) => {
    const file = path.join(outDir, blockFileName(block));
    const run =
      block.mode === "run"
        ? spawnSync(bin("tsx"), ["--conditions", "heartline-source", file], {
            cwd: outDir,
            encoding: "utf8",
            timeout: 15_000,
          })
        : spawnSync(
            bin("vitest"),
            ["run", "--config", writeVitestConfig(), "--root", outDir, path.basename(file)],
            { cwd: outDir, encoding: "utf8", timeout: 30_000 },
          );
    expect(run.status, `${name} failed to run:\n${run.stdout}\n${run.stderr}`).toBe(0);
  });
});

/** A config for the README's own test file: the workspace's source, no JSON report. */
function writeVitestConfig(): string {
  const file = path.join(outDir, "vitest.config.mjs");
  fs.writeFileSync(
    file,
    `export default {
  resolve: { conditions: ["heartline-source"] },
  ssr: { resolve: { conditions: ["heartline-source"] } },
  test: { include: ["*.readme-test.ts"], reporters: ["default"] },
};\n`,
  );
  return file;
}

describe("the README checker", () => {
  const readme = [
    "intro",
    "```ts",
    'const n: number = "one";',
    "```",
    "<!-- fragment -->",
    "```ts",
    "client.on(event, listener): () => void;",
    "```",
    "```sh",
    "npm install x",
    "```",
    "<!-- run -->",
    "",
    "```ts",
    "console.log(1);",
    "```",
  ].join("\n");

  it("reads markers and numbers only the TypeScript blocks", () => {
    const found = extractBlocks("X.md", readme);
    expect(found.map((b) => [b.index, b.mode, b.line])).toEqual([
      [1, "check", 3],
      [2, "fragment", 7],
      [3, "run", 15],
    ]);
    expect(describeBlock(found[0]!)).toBe(
      'X.md TypeScript block #1 (line 3: const n: number = "one";)',
    );
  });

  it("checks ```tsx blocks too, as React JSX modules of their own", () => {
    const [block] = extractBlocks("X.md", "```tsx\nconst a = <div />;\n```");
    expect([block?.jsx, block && blockFileName(block)]).toEqual([true, "X-1.tsx"]);
  });

  it("refuses an unknown marker instead of skipping the block", () => {
    expect(() => extractBlocks("X.md", "<!-- fragmnet -->\n```ts\nx\n```")).toThrow(
      /X\.md line 1: unknown marker <!-- fragmnet -->/,
    );
  });

  it("reports a block that does not compile, with its README line", () => {
    const dir = path.join(root, "tests/.readme-code/self-test");
    const found = typecheckBlocks(
      extractBlocks("X.md", readme),
      dir,
      path.join(root, "tsconfig.base.json"),
    );
    const [bad, , good] = [...extractBlocks("X.md", readme)].map((b) =>
      [...found.entries()].find(([k]) => k.index === b.index),
    );
    expect(bad?.[1]).toEqual([
      "README line 3: TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
    expect(good?.[1]).toEqual([]);
  }, 30_000);
});

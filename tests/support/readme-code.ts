// Extracts the TypeScript blocks of a README and typechecks them (issue 14,
// point 3). Each ```ts (or ```tsx, React's JSX) block is a module of its own, checked against the
// workspace packages' source. The line before a block may mark it:
//   <!-- fragment -->     not code on its own (a signature listing): skipped
//   <!-- run -->          a complete program: also run with tsx, must exit 0
//   <!-- run: vitest -->  a complete vitest test file: also run with vitest
// Any other HTML comment right before a block is refused, so a typo in a
// marker cannot silently skip a block.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

export type BlockMode = "check" | "fragment" | "run" | "vitest";

export interface CodeBlock {
  /** The README, relative to the repository root. */
  readonly readme: string;
  /** 1-based among the README's TypeScript blocks. */
  readonly index: number;
  /** The README line of the block's first code line. */
  readonly line: number;
  readonly mode: BlockMode;
  readonly code: string;
  /** A ```tsx block: written as .tsx and checked with React's JSX transform. */
  readonly jsx: boolean;
}

const MARKERS: Record<string, BlockMode> = {
  "<!-- fragment -->": "fragment",
  "<!-- run -->": "run",
  "<!-- run: vitest -->": "vitest",
};

/** The block as a failure message names it: README, index and first line. */
export function describeBlock(block: CodeBlock): string {
  const first = block.code.split("\n").find((l) => l.trim() !== "") ?? "";
  return `${block.readme} TypeScript block #${block.index} (line ${block.line}: ${first.trim()})`;
}

export function extractBlocks(readme: string, markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(`{3,})\s*(\S*)/.exec(lines[i]!);
    if (!fence) continue;
    const [, , ticks, lang] = fence;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith(ticks!)) end++;
    if (lang === "ts" || lang === "typescript" || lang === "tsx") {
      let prev = i - 1;
      while (prev >= 0 && lines[prev]!.trim() === "") prev--;
      const before = prev >= 0 ? lines[prev]!.trim() : "";
      let mode: BlockMode = "check";
      if (before.startsWith("<!--")) {
        const marked = MARKERS[before];
        if (!marked) {
          throw new Error(
            `${readme} line ${prev + 1}: unknown marker ${before} before a TypeScript block ` +
              `(known: ${Object.keys(MARKERS).join(", ")})`,
          );
        }
        mode = marked;
      }
      blocks.push({
        readme,
        index: blocks.length + 1,
        line: i + 2,
        mode,
        code: lines.slice(i + 1, end).join("\n"),
        jsx: lang === "tsx",
      });
    }
    i = end;
  }
  return blocks;
}

/** The file name a block is written to (and run from). */
export function blockFileName(block: CodeBlock): string {
  const slug = block.readme.replace(/\.md$/i, "").replace(/[^A-Za-z0-9]+/g, "-");
  // Not `.test.ts`: the repository's own vitest run must not collect it.
  const ext = block.jsx ? ".tsx" : ".ts";
  return `${slug}-${block.index}${block.mode === "vitest" ? `.readme-test${ext}` : ext}`;
}

/**
 * Writes every non-fragment block into `dir` (each a module: `export {}` is
 * appended, so top-level await works and names do not clash) and typechecks
 * them in one program with the repository's compiler options. Returns each
 * block's errors, formatted with README line numbers.
 */
export function typecheckBlocks(
  blocks: readonly CodeBlock[],
  dir: string,
  baseConfig: string,
): Map<CodeBlock, string[]> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const byFile = new Map<string, CodeBlock>();
  for (const block of blocks) {
    if (block.mode === "fragment") continue;
    const file = path.join(dir, blockFileName(block));
    fs.writeFileSync(file, `${block.code}\nexport {};\n`);
    byFile.set(path.resolve(file), block);
  }
  const config = ts.readConfigFile(baseConfig, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(
    { ...config.config, include: [], files: [] },
    ts.sys,
    path.dirname(baseConfig),
  );
  const program = ts.createProgram([...byFile.keys()], {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    jsx: ts.JsxEmit.ReactJSX,
  });
  const errors = new Map<CodeBlock, string[]>();
  for (const block of byFile.values()) errors.set(block, []);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file ? path.resolve(d.file.fileName) : undefined;
    const block = file ? byFile.get(file) : undefined;
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!block || !d.file || d.start === undefined) {
      // An error outside the blocks (a package's own source) still fails them all.
      for (const list of errors.values()) list.push(`TS${d.code}: ${text}`);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    errors.get(block)!.push(`README line ${block.line + line}: TS${d.code}: ${text}`);
  }
  return errors;
}

// How the tests run a TypeScript file on Bun or Deno: the pinned binaries of
// the workspace (root devDependencies `bun` and `deno`), on the workspace
// packages' source, as tsx does on Node (the heartline-source condition).
import { fileURLToPath } from "node:url";

export type Runtime = "node" | "bun" | "deno";

const bin = (path: string): string =>
  fileURLToPath(new URL(`../../node_modules/${path}`, import.meta.url));

/**
 * The pinned `bun` and `deno` executables themselves, which their install
 * scripts put in their packages. Not node_modules/.bin/deno: that is a Node
 * script that runs deno as its own child and passes no signal on.
 */
export const bunBin = bin("bun/bin/bun.exe");
export const denoBin = bin("deno/deno");

/**
 * The command that runs `script` (a .ts file) on `runtime`. Deno: the
 * packages' source imports `./x.js` for `./x.ts` (TypeScript's NodeNext
 * style), which Deno resolves with `--sloppy-imports`; npm packages come from
 * the existing node_modules (`--node-modules-dir=manual`), never the network.
 */
export function runtimeCommand(
  runtime: Exclude<Runtime, "node">,
  script: string,
  args: readonly string[] = [],
): [string, string[]] {
  if (runtime === "bun") return [bunBin, ["--conditions=heartline-source", script, ...args]];
  return [
    denoBin,
    [
      "run",
      "--allow-all",
      "--sloppy-imports",
      "--conditions=heartline-source",
      "--node-modules-dir=manual",
      "--no-lock",
      "--quiet",
      script,
      ...args,
    ],
  ];
}

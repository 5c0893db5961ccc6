// Bundles the page script (page/main.ts, with @heartline/client inside) for
// the browser into dist/page.js, the file the echo server serves. `pnpm demo`
// runs this before starting the server; the browser tests call buildPage().
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { pageBundlePath } from "./page-bundle.js";

export const pageEntry = fileURLToPath(new URL("./page/main.ts", import.meta.url));

export async function buildPage(): Promise<string> {
  await build({
    entryPoints: [pageEntry],
    outfile: pageBundlePath,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The workspace packages' source, so a fresh clone needs no build step.
    conditions: ["heartline-source"],
    sourcemap: "linked",
    logLevel: "warning",
  });
  return pageBundlePath;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = await buildPage();
  process.stderr.write(`page bundle: ${path}\n`);
}

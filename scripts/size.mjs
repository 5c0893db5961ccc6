// The client's size budget (issue 4, item 8): bundle @heartline/client for
// the browser as an application would (esbuild, ESM, minified, with
// @heartline/protocol and zod/mini inside), gzip it, and fail above 8 KiB or
// when anything from Node (ws, node: built-ins) got into the browser build.
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const BUDGET = 8192;
const entry = new URL("../packages/client/src/index.ts", import.meta.url).pathname;

const result = await build({
  entryPoints: [entry],
  bundle: true,
  format: "esm",
  platform: "browser",
  minify: true,
  // Bundle the workspace packages' source, as the tests do.
  conditions: ["heartline-source"],
  write: false,
  metafile: true,
  logLevel: "error",
});

const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
const inputs = Object.keys(result.metafile.inputs);
const nodeOnly = inputs.filter((p) => /(^|\/)node_modules\/(\.pnpm\/)?ws[@/]|^node:/.test(p));
const text = Buffer.from(code).toString("utf8");
if (/["'`]node:|require\(["']ws["']\)/.test(text))
  nodeOnly.push("a node: or ws import in the output");

console.log(
  `client browser bundle: ${gzipped} bytes min+gzip (budget ${BUDGET}); ${code.length} bytes minified`,
);
if (process.argv.includes("--inputs")) {
  const sizes = Object.entries(result.metafile.outputs)[0][1].inputs;
  for (const [path, { bytesInOutput }] of Object.entries(sizes).sort(
    (a, b) => b[1].bytesInOutput - a[1].bytesInOutput,
  )) {
    console.log(`  ${String(bytesInOutput).padStart(6)}  ${path}`);
  }
}
let failed = false;
if (nodeOnly.length > 0) {
  console.error(`FAIL: Node-only code in the browser bundle: ${nodeOnly.join(", ")}`);
  failed = true;
}
if (gzipped > BUDGET) {
  console.error(`FAIL: ${gzipped} bytes is over the ${BUDGET}-byte budget`);
  failed = true;
}
process.exit(failed ? 1 : 0);

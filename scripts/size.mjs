// The client's size budget (issue 4, item 8): bundle @heartline/client for
// the browser as an application would (esbuild, ESM, minified, with
// @heartline/protocol and zod/mini inside), gzip it, and fail above 8 KiB or
// when anything from Node (ws, node: built-ins) got into the browser build.
// Then @heartline/react (issue 23): what it adds to an app that already has
// React and the client, with its own budget of 1 KiB.
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
// @heartline/react alone: React and the client are the app's already.
const react = await build({
  entryPoints: [new URL("../packages/react/src/index.ts", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "browser",
  minify: true,
  external: ["react", "react-dom", "@heartline/client", "@heartline/protocol"],
  conditions: ["heartline-source"],
  write: false,
  logLevel: "error",
});
const reactCode = react.outputFiles[0].contents;
const reactGzipped = gzipSync(reactCode, { level: 9 }).length;
const REACT_BUDGET = 1024;
console.log(
  `@heartline/react: ${reactGzipped} bytes min+gzip (budget ${REACT_BUDGET}; React and the client excluded); ${reactCode.length} bytes minified`,
);
let failed = false;
if (reactGzipped > REACT_BUDGET) {
  console.error(
    `FAIL: @heartline/react is ${reactGzipped} bytes, over its ${REACT_BUDGET}-byte budget`,
  );
  failed = true;
}
if (nodeOnly.length > 0) {
  console.error(`FAIL: Node-only code in the browser bundle: ${nodeOnly.join(", ")}`);
  failed = true;
}
if (gzipped > BUDGET) {
  console.error(`FAIL: ${gzipped} bytes is over the ${BUDGET}-byte budget`);
  failed = true;
}
process.exit(failed ? 1 : 0);

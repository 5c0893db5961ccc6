// Where the page bundle lives, apart from build-page.ts so that the server,
// which only serves the file, does not load esbuild.
import { fileURLToPath } from "node:url";

/** The esbuild bundle of page/main.ts; the server serves it as /page.js. */
export const pageBundlePath = fileURLToPath(new URL("./dist/page.js", import.meta.url));

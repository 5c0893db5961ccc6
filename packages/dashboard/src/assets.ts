import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const page = (name: string): string => fileURLToPath(new URL(`../page/${name}`, import.meta.url));

/**
 * The only files served: a fixed table, so no request path reaches the file
 * system. uPlot is served as its own published build, straight from
 * node_modules (no bundling step, and the file is byte for byte the one its
 * authors released).
 */
const files: Readonly<Record<string, { path: () => string; type: string }>> = {
  "": { path: () => page("index.html"), type: "text/html" },
  "dashboard.js": { path: () => page("dashboard.js"), type: "text/javascript" },
  "dashboard.css": { path: () => page("dashboard.css"), type: "text/css" },
  "uPlot.iife.min.js": {
    path: () => require.resolve("uplot/dist/uPlot.iife.min.js"),
    type: "text/javascript",
  },
  "uPlot.min.css": { path: () => require.resolve("uplot/dist/uPlot.min.css"), type: "text/css" },
};

const cache = new Map<string, Promise<Buffer>>();

/** The asset named `name` (the last path segment), or undefined when there is none. */
export function asset(name: string): { body: Promise<Buffer>; type: string } | undefined {
  const file = files[name];
  if (file === undefined) return undefined;
  let body = cache.get(name);
  if (body === undefined) {
    body = readFile(file.path());
    // A failed read is not cached: the next request tries again.
    body.catch(() => cache.delete(name));
    cache.set(name, body);
  }
  return { body, type: file.type };
}

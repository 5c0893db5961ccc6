// The only files the demo serves, on every runtime: a fixed table, so no
// request path ever reaches the file system.
import { fileURLToPath } from "node:url";
import { pageBundlePath } from "./page-bundle.js";

export const routes: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: fileURLToPath(new URL("./page/index.html", import.meta.url)), type: "text/html" },
  "/style.css": {
    file: fileURLToPath(new URL("./page/style.css", import.meta.url)),
    type: "text/css",
  },
  "/page.js": { file: pageBundlePath, type: "text/javascript" },
  "/page.js.map": { file: `${pageBundlePath}.map`, type: "application/json" },
};

export const securityHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  // The URL field is editable, so the page may connect to any ws:/wss: server.
  "content-security-policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:",
};

/** The route for a path (`/index.html` is `/`), or undefined. */
export function routeOf(path: string): { file: string; type: string } | undefined {
  return routes[path === "/index.html" ? "/" : path];
}

export const WS_ENDPOINT_TEXT =
  "This is the WebSocket endpoint: connect with a WebSocket client.\n";
export const missingBundleText = (path: string): string =>
  `${path} is missing: \`pnpm demo\` builds the page bundle before it starts.\n`;

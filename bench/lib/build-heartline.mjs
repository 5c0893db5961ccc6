// The Heartline server under test runs from its TypeScript sources, bundled
// once per run with esbuild (as an application would ship it), so it runs on
// plain `node` like the other servers: no loader hooks in the measured process.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** True when packages/server exports `createServer` (it may still be in the works). */
export function heartlineAvailable() {
  const index = here("../../packages/server/src/index.ts");
  return existsSync(index) && /\bcreateServer\b/.test(readFileSync(index, "utf8"));
}

/**
 * Bundles a bench server entry (default bench/servers/heartline.mjs) with
 * @heartline/* from source; returns the bundle's path. One set of esbuild
 * settings for every Heartline variant (plain, OTel, resume). `external`:
 * more packages left as imports (ioredis, whose CommonJS requires of Node
 * built-ins an ESM bundle cannot run).
 */
export async function buildHeartline(entry = "heartline", { external = [] } = {}) {
  const { build } = await import("esbuild");
  const outfile = here(`../.build/${entry}-server.mjs`);
  await build({
    entryPoints: [here(`../servers/${entry}.mjs`)],
    outfile,
    bundle: true,
    // `node:` built-ins stay imports; Bun and Deno provide them as well.
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["heartline-source"],
    // `ws` stays a real dependency (resolved from bench/node_modules), as for the other servers.
    external: ["ws", ...external],
    sourcemap: true,
    logLevel: "warning",
  });
  return outfile;
}

// The transport-free core runs on any JavaScript runtime (Bun, Deno, workers),
// and so do the Bun and Deno adapters on it: bundled for esbuild's "neutral"
// platform they must import no Node built-in and reach for no Node-only global.
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const builtins = new Set(builtinModules);

describe.each(["@heartline/server/core", "@heartline/server/bun", "@heartline/server/deno"])(
  "%s",
  (entry) => {
    it("bundles for a neutral platform with no Node built-in and no Buffer or process", async () => {
      const nodeImports: string[] = [];
      const result = await build({
        stdin: {
          contents: `export * from "${entry}";`,
          resolveDir: fileURLToPath(new URL(".", import.meta.url)),
          loader: "ts",
        },
        bundle: true,
        write: false,
        platform: "neutral",
        format: "esm",
        // Resolve the workspace packages to their src/, as the tests do.
        conditions: ["heartline-source", "import"],
        mainFields: ["module", "main"],
        logLevel: "silent",
        plugins: [
          {
            name: "record-node-builtins",
            setup(b) {
              b.onResolve({ filter: /.*/ }, (args) => {
                const bare = args.path.replace(/^node:/, "");
                if (!args.path.startsWith("node:") && !builtins.has(bare.split("/")[0]!)) return;
                nodeImports.push(`${args.path} (from ${args.importer})`);
                return { path: args.path, external: true };
              });
            },
          },
        ],
      });
      expect(nodeImports).toEqual([]);
      const code = result.outputFiles[0]!.text;
      expect(code.length).toBeGreaterThan(1000);
      expect(code).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(/);
    });
  },
);

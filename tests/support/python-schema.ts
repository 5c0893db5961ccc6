// The JSON Schema the Python client validates frames with, generated from
// @heartline/protocol's zod schemas (zod v4's z.toJSONSchema). Committed at
// clients/python/src/heartline/protocol.schema.json; tests/python-client.test.ts
// fails when the two drift. Regenerate (then the file is formatted by Biome):
//   node --import tsx --conditions heartline-source tests/support/python-schema.ts --write
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { clientMessageSchemas, serverMessageSchemas } from "@heartline/protocol";
import { z } from "zod";

export const pythonSchemaPath = fileURLToPath(
  new URL("../../clients/python/src/heartline/protocol.schema.json", import.meta.url),
);

function toJson(schema: z.core.$ZodType): unknown {
  // "input": what a receiver accepts, so objects stay open (unknown fields are
  // ignored, as the contract says). `data` (any JSON value) becomes {}.
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

/** The file's text: every message schema by direction and type. */
export function pythonSchemaText(): string {
  const by = (schemas: Record<string, z.core.$ZodType>) =>
    Object.fromEntries(Object.entries(schemas).map(([type, s]) => [type, toJson(s)]));
  const document = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $comment:
      "Generated from @heartline/protocol by tests/support/python-schema.ts; do not edit. Refinements zod cannot express (welcome's resumed/resumeFailed need resume) are checked in code.",
    server: by(serverMessageSchemas),
    client: by(clientMessageSchemas),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--write")) {
    fs.writeFileSync(pythonSchemaPath, pythonSchemaText());
    const biome = fileURLToPath(new URL("../../node_modules/.bin/biome", import.meta.url));
    execFileSync(biome, ["format", "--write", pythonSchemaPath], { stdio: "inherit" });
  } else process.stdout.write(pythonSchemaText());
}

// The test side of runtime-server.ts: start it on Bun or Deno, read its reports.
import { type JsonLinesChild, spawnJsonLinesChild } from "./json-lines-child.js";
import type { RuntimeServerConfig } from "./runtime-server.js";

export interface RuntimeServer extends JsonLinesChild {
  readonly port: number;
  /** ws://127.0.0.1:port/ws */
  readonly url: string;
}

export async function startRuntimeServer(
  runtime: "bun" | "deno",
  config: RuntimeServerConfig,
): Promise<RuntimeServer> {
  const child = await spawnJsonLinesChild("./runtime-server.ts", {
    name: `${runtime} server`,
    runtime,
    env: { HL_SERVER: JSON.stringify(config) },
  });
  const ready = await child.waitFor("ready", (l) => l.type === "ready", { timeoutMs: 30_000 });
  const port = ready.port as number;
  return Object.assign(child, { port, url: `ws://127.0.0.1:${port}/ws` });
}

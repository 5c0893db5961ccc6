// The test side of swarm-process.ts.
import type { JsonLinesChild } from "./json-lines-child.js";
import { spawnJsonLinesChild } from "./json-lines-child.js";
import type { SwarmConfig } from "./swarm-process.js";

export type SwarmChild = JsonLinesChild & { readonly config: SwarmConfig };

export async function startSwarmChild(config: SwarmConfig, name = "swarm"): Promise<SwarmChild> {
  const child = await spawnJsonLinesChild("./swarm-process.ts", {
    name,
    env: { HL_SWARM: JSON.stringify(config) },
  });
  await child.waitFor("ready", (l) => l.type === "ready", { timeoutMs: 30_000 });
  return Object.assign(child, { config });
}

// The test side of server-process.ts: start it, read its reports.
import type { JsonLinesChild, Line } from "./json-lines-child.js";
import { spawnJsonLinesChild } from "./json-lines-child.js";
import type { ServerProcessConfig } from "./server-process.js";

export interface DisconnectLine extends Line {
  readonly sessionId: string;
  readonly reason: string;
  readonly code?: number;
  readonly lastHeardAt: number;
  readonly connectedAt: number;
  readonly t: number;
}

export interface ServerChild extends JsonLinesChild {
  readonly port: number;
  readonly url: string;
  readonly connects: () => Line[];
  readonly disconnects: () => DisconnectLine[];
  /** The disconnect report of `sessionId`, awaited. */
  disconnectOf(sessionId: string, timeoutMs?: number): Promise<DisconnectLine>;
  /** Open session ids and stats, as the server sees them now. */
  open(): Promise<{ sessions: string[]; stats: { open: number; accepted: number } }>;
}

export const isDisconnect = (l: Line): l is DisconnectLine => l.type === "disconnect";

export async function startServerChild(
  config: ServerProcessConfig,
  options: { name?: string; exposeGc?: boolean } = {},
): Promise<ServerChild> {
  const name = options.name ?? "server";
  const child = await spawnJsonLinesChild("./server-process.ts", {
    name,
    env: { HL_SERVER: JSON.stringify(config) },
    nodeArgs: options.exposeGc ? ["--expose-gc"] : [],
  });
  const ready = await child.waitFor("ready", (l) => l.type === "ready", { timeoutMs: 30_000 });
  const port = ready.port as number;
  return Object.assign(child, {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    connects: () => child.lines.filter((l) => l.type === "connect"),
    disconnects: () => child.lines.filter(isDisconnect),
    disconnectOf: async (sessionId: string, timeoutMs = 10_000) =>
      (await child.waitFor(
        `the disconnect of ${sessionId}`,
        (l) => isDisconnect(l) && l.sessionId === sessionId,
        { timeoutMs },
      )) as DisconnectLine,
    open: async () => {
      const answer = await child.request("open");
      return answer as unknown as { sessions: string[]; stats: { open: number; accepted: number } };
    },
  });
}

/** Session ids reported more than once in `lines` (of one type). Should always be empty. */
export function reportedTwice(lines: readonly Line[], type: string): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const l of lines) {
    if (l.type !== type) continue;
    const id = l.sessionId as string;
    if (seen.has(id)) twice.push(id);
    seen.add(id);
  }
  return twice;
}

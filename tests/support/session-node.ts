// The test side of tests/fixtures/redis/session-node.ts: a Heartline server
// process with its sessions in Redis, started, stopped (gracefully, SIGKILL,
// SIGSTOP/SIGCONT) and restarted in place, and read through its JSON lines.
import type { SessionNodeConfig } from "../fixtures/redis/session-node.js";
import { type JsonLinesChild, type Line, spawnJsonLinesChild } from "./json-lines-child.js";

export type { SessionNodeConfig };

export interface SessionNode {
  readonly nodeId: string;
  readonly port: number;
  readonly config: SessionNodeConfig;
  readonly child: JsonLinesChild;
  /** The store's latest availability line. */
  available(): boolean;
  /** Lines of `type` (optionally for one session). */
  lines(type: string, sessionId?: string): Line[];
  /** The WebSocket URL for `user`. */
  url(user: string): string;
  /** Graceful: `hl.close()` (goodbye, the store hands sessions over), then the process exits. */
  close(): Promise<void>;
  /** SIGKILL: no goodbye, nothing handed over; the cluster finds out by liveness. */
  kill(): Promise<void>;
  /** SIGSTOP: the process is frozen (a partition, as the cluster sees it). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  readonly exited: boolean;
}

/** The child's own script path, relative to tests/support (json-lines-child resolves it). */
const SCRIPT = "../fixtures/redis/session-node.ts";

export async function startSessionNode(config: SessionNodeConfig): Promise<SessionNode> {
  const child = await spawnJsonLinesChild(SCRIPT, {
    name: `node ${config.nodeId}`,
    env: { HL_NODE: JSON.stringify(config) },
  });
  const ready = await child.waitFor("ready", (l) => l.type === "ready", { timeoutMs: 20_000 });
  const port = ready.port as number;
  // Ready means the store reaches Redis: before that, new sessions would be plain v1.
  await child.waitFor(
    "the store available",
    (l) => l.type === "available" && l.available === true,
    {
      timeoutMs: 10_000,
    },
  );
  let frozen = false;
  const self: SessionNode = {
    nodeId: config.nodeId,
    port,
    config,
    child,
    available: () => child.lines.filter((l) => l.type === "available").at(-1)?.available === true,
    lines: (type, sessionId) =>
      child.lines.filter(
        (l) => l.type === type && (sessionId === undefined || l.sessionId === sessionId),
      ),
    url: (user) => `ws://127.0.0.1:${port}/ws?user=${encodeURIComponent(user)}`,
    async close() {
      if (child.exited) return;
      if (frozen) self.thaw();
      await child.request("close", {}, 20_000);
      await child.exit;
    },
    async kill() {
      await child.kill("SIGKILL");
    },
    freeze() {
      frozen = true;
      child.signal("SIGSTOP");
    },
    thaw() {
      frozen = false;
      child.signal("SIGCONT");
    },
    get exited() {
      return child.exited;
    },
  };
  return self;
}

/** The same node (id, port) again after it exited: a restart in place. */
export function restartSessionNode(node: SessionNode): Promise<SessionNode> {
  return startSessionNode({ ...node.config, port: node.port });
}

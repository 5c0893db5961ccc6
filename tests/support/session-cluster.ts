// A set of session nodes (session-node.ts) on one Redis for a test, with the
// routing its clients use: each client prefers one node and, while that node
// is down (killed, frozen, restarting), the next one up, as a load balancer
// with health checks would send it.
import type { Line } from "./json-lines-child.js";
import { killAllChildren } from "./json-lines-child.js";
import {
  restartSessionNode,
  type SessionNode,
  type SessionNodeConfig,
  startSessionNode,
} from "./session-node.js";
import type { NodeRecord } from "./stream-ledger.js";

export interface SessionCluster {
  readonly nodes: SessionNode[];
  node(id: string): SessionNode;
  /** Node ids the router skips. */
  readonly down: Set<string>;
  /** Marks the current `id` as SIGKILLed: its unrecorded work may be lost or repeated. */
  markLost(id: string): void;
  /** Marks the current `id` as frozen past the liveness period: repeats allowed, losses not. */
  markFenced(id: string): void;
  /** A URL-per-attempt function for `user`, preferring `prefer`. */
  router(user: string, prefer: string): () => string;
  /** Every node's lines (killed and restarted ones too), for stream-ledger.ts. */
  records(): NodeRecord[];
  /** Lines of `type` on every node (and earlier incarnations), with the node id. */
  all(type: string, sessionId?: string): Array<Line & { node: string }>;
  /** Restarts `id` in place (same id, same port); its earlier lines stay in `records()`. */
  restart(id: string): Promise<SessionNode>;
  stop(): Promise<void>;
}

export type ClusterNodeConfig = Omit<SessionNodeConfig, "nodeId">;

export async function startSessionCluster(
  ids: readonly string[],
  config: ClusterNodeConfig,
): Promise<SessionCluster> {
  const nodes = await Promise.all(ids.map((nodeId) => startSessionNode({ ...config, nodeId })));
  const retired: SessionNode[] = [];
  const down = new Set<string>();
  const lost = new Set<SessionNode>();
  const fenced = new Set<SessionNode>();
  const node = (id: string): SessionNode => {
    const found = nodes.find((n) => n.nodeId === id);
    if (found === undefined) throw new Error(`no node ${id}`);
    return found;
  };
  const incarnations = (): SessionNode[] => [...retired, ...nodes];
  return {
    nodes,
    node,
    down,
    markLost: (id) => void lost.add(node(id)),
    markFenced: (id) => void fenced.add(node(id)),
    router(_user, prefer) {
      return () => {
        const start = Math.max(0, ids.indexOf(prefer));
        for (let i = 0; i < ids.length; i++) {
          const id = ids[(start + i) % ids.length]!;
          if (!down.has(id)) return node(id).url(_user);
        }
        // Everything down: try the preferred one (the attempt fails and the client backs off).
        return node(prefer).url(_user);
      };
    },
    records: () =>
      incarnations().map((n) => ({
        nodeId: n.nodeId,
        lines: n.child.lines,
        lost: lost.has(n),
        fenced: fenced.has(n),
      })),
    all(type, sessionId) {
      return incarnations().flatMap((n) =>
        n.lines(type, sessionId).map((l) => ({ ...l, node: n.nodeId })),
      );
    },
    async restart(id) {
      const old = node(id);
      const fresh = await restartSessionNode(old);
      retired.push(old);
      nodes[nodes.indexOf(old)] = fresh;
      return fresh;
    },
    async stop() {
      await Promise.all(nodes.map((n) => (n.exited ? undefined : n.close().catch(() => n.kill()))));
      await killAllChildren();
    },
  };
}

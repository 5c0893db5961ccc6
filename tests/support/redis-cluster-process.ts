// A local three-master Redis Cluster for one run of the session-store contract
// suite (issue 25): three `redis-server --cluster-enabled yes` on loopback
// (redis-server-process.ts), joined with `redis-cli --cluster create …
// --cluster-replicas 0 --cluster-yes`, ready once every node reports
// cluster_state:ok and knows all 16384 slots. Nothing persists; each node's
// nodes.conf lives in its own temp dir.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  type RedisServerProcess,
  redisServerBin,
  startRedisServer,
} from "./redis-server-process.js";

const run = promisify(execFile);

/** The binary; REDIS_CLI_BIN overrides. On Debian it comes with redis-server (package redis-tools). */
export const redisCliBin = process.env.REDIS_CLI_BIN ?? "redis-cli";

export interface RedisClusterProcess {
  /** The three masters, for ioredis's `new Cluster(nodes)`. */
  readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly servers: readonly RedisServerProcess[];
  dispose(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await run(redisCliBin, [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "cluster",
    "info",
  ]);
  return stdout;
}

/** Starts three masters and joins them; bounded by `timeoutMs` in all. */
export async function startRedisCluster(timeoutMs = 30_000): Promise<RedisClusterProcess> {
  const deadline = Date.now() + timeoutMs;
  const servers: RedisServerProcess[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.dispose()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startRedisServer({
          name: `cluster node ${i}`,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "5000",
            // Every node of this throwaway cluster answers alone; no replica to wait for.
            "--cluster-require-full-coverage",
            "yes",
          ],
        }),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run(
      redisCliBin,
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: Math.max(1000, deadline - Date.now()) },
    );
    // `--cluster create` returns once the slots are assigned; gossip may take a moment more.
    for (;;) {
      const infos = await Promise.all(servers.map((s) => clusterInfo(s.port)));
      const ok = infos.every(
        (info) =>
          /cluster_state:ok/.test(info) &&
          /cluster_slots_ok:16384/.test(info) &&
          /cluster_known_nodes:3/.test(info),
      );
      if (ok) break;
      if (Date.now() > deadline) {
        throw new Error(`Redis Cluster not ok within ${timeoutMs} ms:\n${infos.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    nodes: servers.map((s) => ({ host: s.host, port: s.port })),
    servers,
    dispose,
  };
}

/** Why the cluster cannot be started here (a missing binary), or undefined. */
export async function clusterUnavailable(): Promise<string | undefined> {
  for (const [bin, args] of [
    [redisServerBin, ["--version"]],
    [redisCliBin, ["--version"]],
  ] as const) {
    try {
      await run(bin, [...args]);
    } catch {
      return `${bin} is not installed (Debian: apt-get install redis-server, which brings redis-tools)`;
    }
  }
  return undefined;
}

/**
 * Key names, one place. Every key starts with the prefix; the default prefix is
 * a Redis Cluster hash tag (`{…}`), so all presence keys hash to one slot and
 * the multi-key Lua scripts are legal on a cluster.
 */
export interface PresenceKeys {
  readonly prefix: string;
  readonly nodes: string;
  readonly events: string;
  /** Resumable sessions' records, wherever they are (sessionId -> record). */
  readonly sessions: string;
  heartbeat(nodeId: string): string;
  conns(nodeId: string): string;
  identity(identity: string): string;
}

export function presenceKeys(prefix: string): PresenceKeys {
  return {
    prefix,
    nodes: `${prefix}nodes`,
    events: `${prefix}events`,
    sessions: `${prefix}sess`,
    heartbeat: (nodeId) => `${prefix}hb:${nodeId}`,
    conns: (nodeId) => `${prefix}conns:${nodeId}`,
    identity: (identity) => `${prefix}ident:${identity}`,
  };
}

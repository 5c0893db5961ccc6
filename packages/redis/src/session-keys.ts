/**
 * Key names of the Redis session store, one place.
 *
 * A session's two keys share the hash tag `{s:<id>}` (the token's lookup id),
 * so the scripts that touch both are legal on Redis Cluster and sessions
 * spread over every shard. The node registry has its own tag (`{nodes}`), and
 * each owner's index of hosted sessions its own (`{n:<owner>}`): they are
 * never touched in the same script as a session (adoption re-checks the
 * owner inside the session's own script). Keep no `{…}` in the prefix, or
 * every key lands in one slot (still correct, but on one shard).
 */
export interface SessionKeys {
  /** The session hash (`…:s`). */
  session(id: string): string;
  /** The session's unacknowledged messages, a list of frame texts in seq order (`…:m`). */
  messages(id: string): string;
  /** The node registry: a hash owner key → the clock time its lease ends. */
  readonly registry: string;
  /** An owner's (node incarnation's) set of hosted session ids. */
  index(owner: string): string;
  /** The Pub/Sub channel of one node (takeover notices for the sessions it holds). */
  nodeChannel(nodeId: string): string;
  /** The Pub/Sub channel every node listens to (a node leaving: adopt now). */
  readonly nodesChannel: string;
}

export function sessionKeys(prefix: string): SessionKeys {
  return {
    session: (id) => `${prefix}{s:${id}}:s`,
    messages: (id) => `${prefix}{s:${id}}:m`,
    registry: `${prefix}{nodes}:leases`,
    index: (owner) => `${prefix}{n:${owner}}:idx`,
    nodeChannel: (nodeId) => `${prefix}node:${nodeId}`,
    nodesChannel: `${prefix}nodes`,
  };
}

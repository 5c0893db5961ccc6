import { DisconnectReason } from "@heartline/protocol";

/**
 * Why a connection left presence: every reason the server reports, plus two
 * that only a cluster has.
 */
export const PresenceReason = {
  ...DisconnectReason,
  /** Its node stopped refreshing its heartbeat key (SIGKILL, lost network, a stall past the TTL). */
  NodeLost: "node_lost",
  /**
   * Its node no longer had it when it resynced after Redis was unreachable, and
   * the original disconnect (with its real reason) was dropped from the bounded buffer.
   */
  Resync: "resync",
  /** A resumable session's window passed without a resume (its `sessionEnd` reason). */
  Expired: "expired",
  /** A resumable session ended because an unacknowledged buffer overflowed. */
  Overflow: "overflow",
  /** A resumable session waiting for its client gave way to another (the server's bounds). */
  Evicted: "evicted",
} as const;
export type PresenceReason = (typeof PresenceReason)[keyof typeof PresenceReason];

/** One live connection as Redis holds it. */
export interface PresenceEntry {
  readonly nodeId: string;
  readonly sessionId: string;
  /** The application's identity for the connection, from `identify(conn)`. */
  readonly identity: string;
  /**
   * When the server accepted the connection (ms since the epoch, the node's
   * clock). For a resumable session: the connection that carries it now
   * (a resume on another node moves the record with its new connection's
   * time; an adopted session keeps the time it had).
   */
  readonly connectedAt: number;
  /**
   * Present (true) on a resumable session's record: it follows the session,
   * not the socket. Offline means the session ended (see "Presence over
   * sessions" in the README); absent on a plain v1 connection.
   */
  readonly resumable?: true;
}

export interface PresenceConnectEvent extends PresenceEntry {
  readonly type: "connect";
  /** When it happened: `connectedAt`. */
  readonly at: number;
  /** Published by a resync: subscribers may have seen this connection before (treat as an upsert). */
  readonly resync?: true;
}

export interface PresenceDisconnectEvent extends PresenceEntry {
  readonly type: "disconnect";
  readonly reason: PresenceReason;
  /** When it was observed: the node's clock, or Redis's clock for `node_lost` and `resync`. */
  readonly at: number;
  /** The close code, where the server reported one. */
  readonly code?: number;
  /** When the last data frame arrived, where the server reported it. */
  readonly lastSeenAt?: number;
}

/**
 * A resumable session's record moved to another node without going offline:
 * its client resumed there, or that node adopted it from a lost node.
 * `nodeId` is the new node, `from` the old one.
 */
export interface PresenceMovedEvent extends PresenceEntry {
  readonly type: "moved";
  readonly resumable: true;
  /** The node that held the record before. */
  readonly from: string;
  /** When it moved (the new node's clock). */
  readonly at: number;
}

/**
 * A cluster-wide presence event: a `connect` or a `disconnect`. (A resumable
 * session's `moved` is delivered only to subscribers that ask for it,
 * `subscribe(fn, { moves: true })`: code written as "not a connect, so a
 * disconnect" keeps working.)
 */
export type PresenceEvent = PresenceConnectEvent | PresenceDisconnectEvent;

const reasons = new Set<string>(Object.values(PresenceReason));

function isEntry(v: Record<string, unknown>): boolean {
  return (
    typeof v.nodeId === "string" &&
    typeof v.sessionId === "string" &&
    typeof v.identity === "string" &&
    typeof v.connectedAt === "number" &&
    typeof v.at === "number"
  );
}

/** Parses one message of the events channel; undefined when it is not one. */
export function parseEventsMessage(
  text: string,
): Array<PresenceEvent | PresenceMovedEvent> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { v, events } = parsed as { v?: unknown; events?: unknown };
  if (v !== 1 || !Array.isArray(events)) return undefined;
  const out: Array<PresenceEvent | PresenceMovedEvent> = [];
  for (const e of events as unknown[]) {
    if (typeof e !== "object" || e === null) return undefined;
    const r = e as Record<string, unknown>;
    if (!isEntry(r)) return undefined;
    if (r.type === "connect") out.push(r as unknown as PresenceConnectEvent);
    else if (r.type === "moved" && typeof r.from === "string")
      out.push(r as unknown as PresenceMovedEvent);
    else if (r.type === "disconnect" && typeof r.reason === "string" && reasons.has(r.reason))
      out.push(r as unknown as PresenceDisconnectEvent);
    else return undefined;
  }
  return out;
}

/** Parses a record stored in Redis; undefined when it is not one. */
export function parseEntry(text: string): PresenceEntry | undefined {
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    if (
      typeof r === "object" &&
      r !== null &&
      typeof r.nodeId === "string" &&
      typeof r.sessionId === "string" &&
      typeof r.identity === "string" &&
      typeof r.connectedAt === "number"
    ) {
      const entry = {
        nodeId: r.nodeId,
        sessionId: r.sessionId,
        identity: r.identity,
        connectedAt: r.connectedAt,
      };
      return r.resumable === true ? { ...entry, resumable: true } : entry;
    }
  } catch {
    // not JSON: fall through
  }
  return undefined;
}

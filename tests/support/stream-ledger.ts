// The verdict of the multi-process session tests (issue 25), from both sides'
// records: the clients' (stream-client.ts) and every node's JSON lines
// (session-node.ts). It states PROTOCOL.md's "Several server processes":
//
// client → server: every message `send` accepted reaches the application of
// some node exactly once, in order (by its seq in the session), or the client
// reports it undelivered; never neither. The one allowed repeat is the
// at-least-once window: a process handed the message to its application,
// then lost the session before its receipt was recorded (it was killed, cut
// off and fenced, or the client resumed elsewhere first: its `sessionMoved`),
// and the node where the session resumed hands it over again with the SAME
// (sessionId, seq). A repeat with another seq, or after a delivery by a
// process that kept the session, is a failure.
//
// server → client: every echo a node's `send` accepted arrives once and in
// order, or is reported in that node's `sessionEnd`/`sessionMoved`; echoes
// accepted by a process that was then killed may be lost with it (its
// application is gone; nobody is left to tell), but never arrive twice.
import type { Line } from "./json-lines-child.js";
import type { StreamClientRecord, StreamEcho, StreamMessage } from "./stream-client.js";

export interface NodeRecord {
  readonly nodeId: string;
  readonly lines: readonly Line[];
  /**
   * SIGKILLed during the test: what it handed its application unrecorded may
   * be handed over again elsewhere, and echoes it accepted may die with it.
   */
  readonly lost: boolean;
  /**
   * Cut off from the cluster and fenced (frozen past the liveness period,
   * then thawed): it may have handed messages to its application before it
   * learnt so (repeats allowed), but it lives, so every echo it accepted is
   * delivered or reported (`sessionMoved`), never lost.
   */
  readonly fenced?: boolean;
}

export interface StreamVerdict {
  readonly user: string;
  /** Accepted, neither delivered nor reported: lost silently. */
  readonly lostToServer: number[];
  /** Delivered to a server application more than once outside the documented window. */
  readonly duplicatedToServer: number[];
  /** Delivered more than once in the window (same sessionId and seq, after a process that then lost the session). */
  readonly repeatedInWindow: number[];
  /** Delivered to the server out of order, or under two different seqs in one session. */
  readonly disorderedToServer: number[];
  /** Delivered and also reported undelivered. */
  readonly bothToServer: number[];
  /** The same echo (node, seq of the message) arrived twice at the client. */
  readonly duplicatedToClient: string[];
  /** Echoes out of order at the client (by counter). */
  readonly disorderedToClient: number[];
  /** Echoes a surviving node accepted, neither delivered nor reported by it. */
  readonly lostToClient: string[];
  /** Echoes accepted by a lost node that never arrived (allowed; counted). */
  readonly diedWithNode: number;
  /** How many messages the server applications received in all (first deliveries). */
  readonly delivered: number;
  /** Every delivery of each counter delivered more than once, as `node:sessionId-prefix:seq` (for failure messages). */
  readonly repeats: Record<number, string[]>;
}

interface Delivery {
  readonly node: string;
  /** The process lost the session after this delivery (killed, fenced, or its `sessionMoved`): a repeat after it is the window. */
  readonly lost: boolean;
  readonly sessionId: string;
  readonly seq: number | undefined;
  readonly c: number;
}

const echoKey = (e: StreamEcho): string => `${e.node}/${e.echo.c}/${e.seq ?? "-"}`;

/** The verdict for one client against every node's record. */
export function streamVerdict(
  client: StreamClientRecord,
  nodes: readonly NodeRecord[],
): StreamVerdict {
  const mine = (data: unknown): data is StreamMessage =>
    typeof data === "object" && data !== null && (data as StreamMessage).u === client.user;

  // ---- client → server ----
  const deliveries: Delivery[] = [];
  for (const n of nodes) {
    n.lines.forEach((l, at) => {
      if (l.type === "message" && mine(l.data)) {
        const movedAfter = n.lines
          .slice(at)
          .some((m) => m.type === "sessionMoved" && m.sessionId === l.sessionId);
        deliveries.push({
          node: n.nodeId,
          lost: n.lost || n.fenced === true || movedAfter,
          sessionId: l.sessionId as string,
          seq: l.seq as number | undefined,
          c: (l.data as StreamMessage).c,
        });
      }
    });
  }
  const byC = new Map<number, Delivery[]>();
  for (const d of deliveries) byC.set(d.c, [...(byC.get(d.c) ?? []), d]);
  const reported = new Set(client.reported);
  const lostToServer = client.accepted.filter((c) => !byC.has(c) && !reported.has(c));
  const bothToServer = client.accepted.filter((c) => byC.has(c) && reported.has(c));
  const duplicatedToServer: number[] = [];
  const repeatedInWindow: number[] = [];
  for (const [c, ds] of byC) {
    if (ds.length === 1) continue;
    const first = ds[0]!;
    const sameSeq = ds.every((d) => d.sessionId === first.sessionId && d.seq === first.seq);
    const lostInvolved = ds.slice(0, -1).some((d) => d.lost);
    if (sameSeq && first.seq !== undefined && lostInvolved) repeatedInWindow.push(c);
    else duplicatedToServer.push(c);
  }
  // In order: within a session, seq → counter is one-to-one and increasing.
  const disorderedToServer: number[] = [];
  const bySession = new Map<string, Map<number, number>>();
  for (const d of deliveries) {
    if (d.seq === undefined) continue;
    const seqs = bySession.get(d.sessionId) ?? new Map<number, number>();
    bySession.set(d.sessionId, seqs);
    const had = seqs.get(d.seq);
    if (had !== undefined && had !== d.c) disorderedToServer.push(d.c);
    seqs.set(d.seq, d.c);
  }
  for (const seqs of bySession.values()) {
    const ordered = [...seqs].sort(([a], [b]) => a - b);
    for (let i = 1; i < ordered.length; i++) {
      if (ordered[i]![1] <= ordered[i - 1]![1]) disorderedToServer.push(ordered[i]![1]);
    }
  }

  // ---- server → client ----
  const arrived = new Map<string, number>();
  for (const e of client.echoes) arrived.set(echoKey(e), (arrived.get(echoKey(e)) ?? 0) + 1);
  const duplicatedToClient = [...arrived].filter(([, n]) => n > 1).map(([k]) => k);
  const disorderedToClient: number[] = [];
  let last = 0;
  for (const e of client.echoes) {
    // A repeat in the window may echo a counter again (a second delivery): not out of order.
    if (e.echo.c < last && !repeatedInWindow.includes(e.echo.c)) disorderedToClient.push(e.echo.c);
    last = Math.max(last, e.echo.c);
  }
  const lostToClient: string[] = [];
  let diedWithNode = 0;
  for (const n of nodes) {
    const undelivered = new Set<string>();
    for (const l of n.lines) {
      if (l.type !== "sessionEnd" && l.type !== "sessionMoved") continue;
      for (const u of (l.undelivered as StreamEcho[]) ?? []) {
        if (typeof u === "object" && u !== null && mine(u.echo)) undelivered.add(echoKey(u));
      }
    }
    for (const l of n.lines) {
      if (l.type !== "sent" || l.ok !== true || !mine((l.data as StreamEcho)?.echo)) continue;
      const key = echoKey(l.data as StreamEcho);
      if (arrived.has(key) || undelivered.has(key)) continue;
      if (n.lost) diedWithNode++;
      else lostToClient.push(key);
    }
  }
  const repeats: Record<number, string[]> = {};
  for (const c of [...duplicatedToServer, ...repeatedInWindow]) {
    repeats[c] = (byC.get(c) ?? []).map((d) => `${d.node}:${d.sessionId.slice(0, 8)}:${d.seq}`);
  }
  return {
    user: client.user,
    repeats,
    lostToServer,
    duplicatedToServer,
    repeatedInWindow,
    disorderedToServer,
    bothToServer,
    duplicatedToClient,
    disorderedToClient,
    lostToClient,
    diedWithNode,
    delivered: byC.size,
  };
}

/** The lists that must be empty in every test, for one `expect(...).toEqual(...)`. */
export function failures(v: StreamVerdict): Partial<StreamVerdict> {
  const out: Record<string, unknown> = {};
  for (const key of [
    "lostToServer",
    "duplicatedToServer",
    "disorderedToServer",
    "bothToServer",
    "duplicatedToClient",
    "disorderedToClient",
    "lostToClient",
  ] as const) {
    if (v[key].length > 0) out[key] = v[key];
  }
  return out as Partial<StreamVerdict>;
}

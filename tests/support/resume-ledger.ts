// The bookkeeping every resume test shares: which application messages one
// side accepted (send returned true), which the other side's application got,
// and which the sender was told were undelivered. `check()` states the
// contract: every accepted message delivered exactly once and in order, or
// reported as undelivered; never neither; never both while the session lives.
import type { HeartlineClient } from "@heartline/client";

export interface Direction {
  /** Ids the sender's `send` accepted, in send order. */
  readonly accepted: string[];
  /** Ids the sender's `send` refused (false): never promised, never counted. */
  readonly refused: string[];
  /** Ids the receiving application got, in arrival order (a duplicate shows twice). */
  readonly delivered: string[];
  /** Ids the sender was told could not be delivered (`undelivered` / `sessionEnd`). */
  readonly reported: string[];
}

function direction(): Direction {
  return { accepted: [], refused: [], delivered: [], reported: [] };
}

export interface Ledger {
  readonly toServer: Direction;
  readonly toClient: Direction;
}

export function ledger(): Ledger {
  return { toServer: direction(), toClient: direction() };
}

export interface Verdict {
  /** Delivered more than once: always a bug. */
  readonly duplicated: string[];
  /** Neither delivered nor reported: lost silently, always a bug. */
  readonly lost: string[];
  /** Delivered and reported. */
  readonly both: string[];
  /** Delivered although never accepted, or out of send order. */
  readonly disordered: string[];
}

/** What went wrong in one direction (every list empty: nothing). */
export function verdict(d: Direction): Verdict {
  const counts = new Map<string, number>();
  for (const id of d.delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
  const reported = new Set(d.reported);
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const lost = d.accepted.filter((id) => !counts.has(id) && !reported.has(id));
  const both = d.accepted.filter((id) => counts.has(id) && reported.has(id));
  // In order: the delivered ids, first arrivals, follow the accepted order.
  const position = new Map(d.accepted.map((id, i) => [id, i]));
  const disordered: string[] = [];
  let last = -1;
  for (const id of new Set(d.delivered)) {
    const at = position.get(id);
    if (at === undefined || at < last) disordered.push(id);
    else last = at;
  }
  return { duplicated, lost, both, disordered };
}

/** Subscribes a client's side of the ledger: deliveries to it, and its undelivered reports. */
export function recordClient(
  client: HeartlineClient<string, string>,
  book: Ledger,
): { send(id: string): boolean } {
  client.on("message", (data) => void book.toClient.delivered.push(data));
  client.on("undelivered", ({ reason, messages }) => {
    // A refusal by `send` (it returned false) is in `refused` already: never promised.
    if (reason === "overflow" || reason === "invalid" || reason === "not_connected") return;
    for (const id of messages) book.toServer.reported.push(id);
  });
  return {
    send(id) {
      const ok = client.send(id);
      (ok ? book.toServer.accepted : book.toServer.refused).push(id);
      return ok;
    },
  };
}

/** One ended session as the tests read it. */
export interface RecordedSessionEnd {
  readonly sessionId: string;
  readonly reason: string;
  readonly undelivered: readonly string[];
}

/**
 * The server's side of the ledger, as `on` listeners for the harness's server
 * options: deliveries to its application, and the undelivered messages each
 * `sessionEnd` reports (also kept, whole, in `sessionEnds`).
 */
export function recordServer(book: Ledger, sessionEnds: RecordedSessionEnd[]) {
  return {
    message: (_conn: unknown, data: unknown) => void book.toServer.delivered.push(data as string),
    sessionEnd: (info: RecordedSessionEnd) => {
      sessionEnds.push(info);
      for (const id of info.undelivered) book.toClient.reported.push(id);
    },
  };
}

/** The client's reconnect pace in the resume tests: quick, bounded retries on the fake clock. */
export const quickReconnect = Object.freeze({
  reconnect: { baseMs: 100, capMs: 400, stableAfterMs: 100 },
  connectTimeoutMs: 1000,
});

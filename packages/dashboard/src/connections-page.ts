import type { Connection } from "@heartline/server";

/** One row of the connections table: a connection as the page shows it. */
export interface ConnectionRow {
  readonly sessionId: string;
  readonly remoteAddress: string | null;
  /** ms since the connection was accepted. */
  readonly connectedForMs: number;
  /** ms since its last data frame. */
  readonly lastHeardAgoMs: number;
}

/** One page of the connections table, as `connections?page=N` returns it. */
export interface ConnectionsPage {
  /** Open connections in all. */
  readonly total: number;
  /** The 0-based page served (clamped to the last page). */
  readonly page: number;
  /** Rows per page (the `pageSize` option). */
  readonly pageSize: number;
  readonly rows: readonly ConnectionRow[];
}

/**
 * One page of the open connections, in accept order, paged on the server:
 * the page never receives more than `pageSize` rows, however many there are.
 * Skipping to page N walks N × pageSize connections (no copy), which for tens
 * of thousands is well under a millisecond, and only on request.
 */
export function connectionsPage(
  connections: Iterable<Connection>,
  total: number,
  page: number,
  pageSize: number,
  now: number,
): ConnectionsPage {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(0, page), pages - 1);
  const skip = current * pageSize;
  const rows: ConnectionRow[] = [];
  let index = 0;
  for (const conn of connections) {
    if (index++ < skip) continue;
    rows.push({
      sessionId: conn.sessionId,
      remoteAddress: conn.remoteAddress ?? null,
      connectedForMs: now - conn.connectedAt,
      lastHeardAgoMs: now - conn.lastHeardAt,
    });
    if (rows.length === pageSize) break;
  }
  return { total, page: current, pageSize, rows };
}

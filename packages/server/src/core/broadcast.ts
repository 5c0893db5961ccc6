import { encodeMessageFrame, type StandardSchemaV1, validateData } from "@heartline/protocol";
import type { TrafficCounters } from "./connection-host.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";

/** What a broadcast needs from each connection. */
export interface BroadcastTarget<TServer> {
  readonly isOpen: boolean;
  /** It holds a resumable session: each message gets that session's next seq. */
  readonly numbered: boolean;
  sendNumbered(data: TServer, dataJson: string): boolean;
  writeIfOpen(text: string): boolean;
}

/** A session waiting for its client, as a broadcast reaches it (`SessionHandle`). */
export interface WaitingTarget<TServer> {
  deliver(data: TServer, dataJson: string): boolean;
}

/**
 * Sends `data` to every open connection in `live`, and keeps it for every
 * session in `waiting` (numbered, replayed on resume), each if `filter`
 * accepts it; returns how many took it. Validated once, encoded once: a
 * plain connection shares one frame, a resumable one shares the data's
 * JSON and adds its seq.
 */
export function broadcast<
  TServer,
  TConn extends BroadcastTarget<TServer>,
  TWaiting extends WaitingTarget<TServer>,
>(
  live: Iterable<TConn>,
  waiting: Iterable<TWaiting>,
  schema: StandardSchemaV1<unknown, TServer> | undefined,
  counters: TrafficCounters,
  data: TServer,
  filter: ((conn: TConn | TWaiting) => boolean) | undefined,
): number {
  const valid = validateData(schema, data);
  if (!valid.ok) {
    throw new HeartlineError(ServerErrorCode.InvalidPayload, `invalid payload: ${valid.message}`);
  }
  const json = JSON.stringify(data);
  const text = encodeMessageFrame(json);
  let plain = 0;
  let sent = 0;
  for (const conn of live) {
    if (!conn.isOpen || (filter !== undefined && !filter(conn))) continue;
    if (conn.numbered) {
      // Counted in messagesOut by the connection itself.
      if (conn.sendNumbered(data, json)) sent++;
    } else if (conn.writeIfOpen(text)) {
      plain++;
      sent++;
    }
  }
  counters.messagesOut += plain;
  // Counted in messagesOut by the session itself.
  for (const session of waiting) {
    if (filter !== undefined && !filter(session)) continue;
    if (session.deliver(data, json)) sent++;
  }
  return sent;
}

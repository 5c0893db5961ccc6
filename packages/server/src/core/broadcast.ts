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

/**
 * Sends `data` to every open connection in `live` that `filter` accepts;
 * returns how many got it. Validated once, encoded once: a plain connection
 * shares one frame, a resumable one shares the data's JSON and adds its seq.
 */
export function broadcast<TServer, TConn extends BroadcastTarget<TServer>>(
  live: Iterable<TConn>,
  schema: StandardSchemaV1<unknown, TServer> | undefined,
  counters: TrafficCounters,
  data: TServer,
  filter: ((conn: TConn) => boolean) | undefined,
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
  return sent;
}

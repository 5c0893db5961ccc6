import type { DisconnectReason, StandardSchemaV1 } from "@heartline/protocol";
import type { ConnectionState } from "./connection-api.js";
import type { Deadlined } from "./deadline-queue.js";
import type { HeartlineError } from "./errors.js";
import type { ResolvedCoreOptions } from "./options.js";
import type { OutboundBudget } from "./outbound-budget.js";

/**
 * Traffic counters: plain fields the connections bump on every frame (no
 * call, no allocation); `stats()` copies them.
 */
export class TrafficCounters {
  framesIn = 0;
  framesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
}

/** A resumable session as a connection reaches it after its own end (`SessionHandle`). */
export interface SessionRoute<TServer> {
  readonly state: ConnectionState;
  deliver(data: TServer, dataJson: string): boolean;
}

/**
 * Everything a connection needs from the server that holds it, and nothing
 * more: the connection sees its host only through this. `TConn` is the
 * connection itself, so the host's callbacks take it without this file
 * importing the connection (no import cycle).
 */
export interface ConnectionHost<TConn extends Deadlined, TClient, TServer, TSession = unknown> {
  readonly options: ResolvedCoreOptions;
  readonly clientSchema: StandardSchemaV1<unknown, TClient> | undefined;
  readonly serverSchema: StandardSchemaV1<unknown, TServer> | undefined;
  readonly counters: TrafficCounters;
  /** The outbound buffer total across connections; each connection moves it by its own change. */
  readonly outbound: OutboundBudget;
  /** Starts the silence watch (deadline `lastHeardAt + timeoutMs`); no-op if watched. */
  watch(conn: TConn): void;
  /** Stops it; no-op if not watched. */
  unwatch(conn: TConn): void;
  /** A valid application message arrived; `seq` is its seq on a resumable session (undefined on plain v1). */
  connectionMessage(conn: TConn, data: TClient, seq: number | undefined): void;
  /**
   * The connection's end was decided: reported once, here. `session` is the
   * resumable session it held at its end (undefined on a plain connection,
   * or when it was replaced or its session overflowed): the host keeps it
   * for the window or ends it.
   */
  connectionEnded(
    conn: TConn,
    reason: DisconnectReason,
    code: number | undefined,
    session: TSession | undefined,
  ): void;
  /** The connection owes its client an ack: flush it at the latest one interval from now. */
  queueAck(conn: TConn): void;
  /** Ends a session at once (the connection's buffer overflowed), after the connection's own end. */
  endSession(session: TSession, reason: "overflow"): void;
  /** The socket is gone (after the end, or with it). */
  connectionGone(conn: TConn): void;
  /** Something went wrong on the connection that is not its end (a transport error). */
  connectionError(conn: TConn, error: HeartlineError): void;
  /** The resumable session `sessionId` while it lasts: where an ended connection's `send` goes. */
  sessionRoute(sessionId: string): SessionRoute<TServer> | undefined;
}

// A stand-in for one Heartline server process with resumption on (and, for
// the cross-node cases, a shared session store): the same event shapes as
// the server's `connection`, `disconnect`, `sessionEnd`, `sessionMoved` and
// `sessionAdopted`, in the order the server emits them. No sockets.
import { EventEmitter } from "node:events";
import type { DisconnectReason } from "@heartline/protocol";

export interface FakeSessionConn {
  readonly sessionId: string;
  readonly connectedAt: number;
  readonly auth: { readonly user: string };
  readonly resumable: boolean;
}

let next = 0;

/** A session id unique in the test process (the same id on every node the session visits). */
export function newSessionId(): string {
  return `sess${++next}-${Math.random().toString(36).slice(2, 6)}`;
}

export class FakeSessionServer extends EventEmitter {
  /** A connection carrying a resumable session: new (no `sessionId`) or resumed (the session's id). */
  open(user: string, at: number, sessionId: string = newSessionId()): FakeSessionConn {
    const conn: FakeSessionConn = { sessionId, connectedAt: at, auth: { user }, resumable: true };
    this.emit("connection", conn);
    return conn;
  }

  /** A plain v1 connection (the client did not offer resumption). */
  plain(user: string, at: number): FakeSessionConn {
    const conn: FakeSessionConn = {
      sessionId: newSessionId(),
      connectedAt: at,
      auth: { user },
      resumable: false,
    };
    this.emit("connection", conn);
    return conn;
  }

  /** The connection's end report; `resumable` as the server says it (kept, or replaced). */
  disconnect(
    conn: FakeSessionConn,
    reason: DisconnectReason,
    resumable: boolean,
    code?: number,
  ): void {
    this.emit("disconnect", {
      sessionId: conn.sessionId,
      reason,
      ...(code !== undefined ? { code } : {}),
      lastHeardAt: conn.connectedAt,
      lastSeenAt: conn.connectedAt,
      connectedAt: conn.connectedAt,
      auth: conn.auth,
      resumable,
    });
  }

  /** The session's one end (after its connection's disconnect, for a deliberate end). */
  sessionEnd(sessionId: string, reason: string, at: number, user = "?"): void {
    this.emit("sessionEnd", { sessionId, reason, undelivered: [], auth: { user }, at });
  }

  /** The session left this process: resumed elsewhere, or this process was fenced. */
  sessionMoved(sessionId: string): void {
    this.emit("sessionMoved", { sessionId, undelivered: [] });
  }

  /** This process adopted a lost process's session. */
  sessionAdopted(sessionId: string, from: string, user: string): void {
    this.emit("sessionAdopted", { sessionId, auth: { user }, from });
  }
}

// A stand-in for a Heartline server with the same event shapes, so the
// presence store can be tested without sockets.
import { EventEmitter } from "node:events";
import type { DisconnectReason } from "@heartline/protocol";

export interface FakeConn {
  readonly sessionId: string;
  readonly connectedAt: number;
  readonly auth: { readonly user: string };
  readonly remoteAddress: string;
}

export class FakeServer extends EventEmitter {
  #next = 0;

  connect(user: string, at = Date.now()): FakeConn {
    const conn: FakeConn = {
      sessionId: `s${++this.#next}-${Math.random().toString(36).slice(2, 6)}`,
      connectedAt: at,
      auth: { user },
      remoteAddress: "127.0.0.1",
    };
    this.emit("connection", conn);
    return conn;
  }

  disconnect(conn: FakeConn, reason: DisconnectReason, code?: number): void {
    this.emit("disconnect", {
      sessionId: conn.sessionId,
      reason,
      ...(code !== undefined ? { code } : {}),
      lastSeenAt: conn.connectedAt,
      connectedAt: conn.connectedAt,
      auth: conn.auth,
    });
  }
}

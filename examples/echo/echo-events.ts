// The demo's event lines, shared by the Node server (echo-server.ts) and the
// Bun and Deno one (echo-fetch-server.ts): one JSON line per connect, per
// disconnect, per resumed connection and per ended resumable session.
import type { DisconnectReason } from "@heartline/protocol";
import type {
  Connection,
  DisconnectInfo,
  ResumeInfo,
  SessionEndInfo,
} from "@heartline/server/core";

export type EchoEvent =
  | { event: "connect"; sessionId: string; at: string }
  | {
      event: "disconnect";
      sessionId: string;
      reason: DisconnectReason;
      /** The close code, or null when the socket ended without one (`connection_lost`). */
      code: number | null;
      at: string;
    }
  /** A connection that continued an earlier session (same `sessionId`). */
  | { event: "resume"; sessionId: string; at: string }
  /** A resumable session ended: its window passed, or it ended deliberately, or a buffer overflowed. */
  | {
      event: "session_end";
      sessionId: string;
      reason: string;
      /** How many messages the server still held unacknowledged (their data is in the server's event). */
      undelivered: number;
      at: string;
    };

type EchoListener<K extends EchoEvent["event"]> = (event: Extract<EchoEvent, { event: K }>) => void;

/** Where the events go (server.ts prints each as a JSON line). */
export interface EchoEventListeners {
  connect?: EchoListener<"connect">;
  disconnect?: EchoListener<"disconnect">;
  resume?: EchoListener<"resume">;
  sessionEnd?: EchoListener<"session_end">;
}

/**
 * The Heartline listeners of the demo, on any adapter: the echo itself (every
 * message goes back to the one who sent it; `onMessage` sees it too), and
 * each connection event turned into an `EchoEvent`.
 */
export function echoListeners(
  on: EchoEventListeners | undefined,
  onMessage?: (data: unknown) => void,
) {
  const at = () => new Date().toISOString();
  return {
    connection: (conn: Connection) =>
      on?.connect?.({ event: "connect", sessionId: conn.sessionId, at: at() }),
    message: (conn: Connection, data: unknown) => {
      conn.send(data);
      onMessage?.(data);
    },
    disconnect: (info: DisconnectInfo) =>
      on?.disconnect?.({
        event: "disconnect",
        sessionId: info.sessionId,
        reason: info.reason,
        code: info.code ?? null,
        at: at(),
      }),
    resume: (info: ResumeInfo) =>
      on?.resume?.({ event: "resume", sessionId: info.sessionId, at: at() }),
    sessionEnd: (info: SessionEndInfo) =>
      on?.sessionEnd?.({
        event: "session_end",
        sessionId: info.sessionId,
        reason: info.reason,
        undelivered: info.undelivered.length,
        at: at(),
      }),
  };
}

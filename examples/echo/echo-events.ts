// The demo's event lines, shared by the Node server (echo-server.ts) and the
// Bun and Deno one (echo-fetch-server.ts): one JSON line per connect, per
// disconnect, per resumed connection, per ended resumable session and per
// refused upgrade.
import type { DisconnectReason } from "@heartline/protocol";
import {
  type Connection,
  type DisconnectInfo,
  forwardedReader,
  type HeartlineError,
  type RejectedRequest,
  type ResumeInfo,
  type SessionEndInfo,
  type TrustProxy,
  type UpgradeRejection,
} from "@heartline/server/core";

/** Every stdout line of the demo. */
export type EchoEvent = EchoSessionEvent | EchoRejectedEvent;

/**
 * An upgrade refused with an HTTP status (403 cross-site origin, 429 per
 * address, 503 while draining…): what it asked for and who asked, as the
 * server judged them (`host` and `address` through a trusted proxy).
 */
export interface EchoRejectedEvent {
  event: "upgrade_rejected";
  status: number;
  reason: string;
  origin: string | null;
  host: string | null;
  address: string | null;
  at: string;
}

/** The lines about connections and sessions (each carries a `sessionId`). */
export type EchoSessionEvent =
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
  rejected?: EchoListener<"upgrade_rejected">;
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
  trustProxy: TrustProxy = false,
) {
  const at = () => new Date().toISOString();
  // The same view of a request as the server's own checks (for the refusal line's host).
  const forwarded = forwardedReader(trustProxy);
  return {
    upgradeRejected: (rejection: UpgradeRejection, request: RejectedRequest | undefined) => {
      const origin = request?.headers.origin;
      const host =
        request === undefined ? undefined : forwarded(request.headers, request.remoteAddress).host;
      on?.rejected?.({
        event: "upgrade_rejected",
        status: rejection.status,
        reason: rejection.reason,
        origin: typeof origin === "string" ? origin : null,
        host: host ?? null,
        address: rejection.remoteAddress ?? null,
        at: at(),
      });
    },
    // A warning (proxy idle timeout, …) or a failure that did not crash the server: on stderr.
    error: (error: HeartlineError) =>
      console.error(`echo demo: heartline ${error.code}: ${error.message}`),
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

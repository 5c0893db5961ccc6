import type { HeartbeatTerms } from "@heartline/protocol";
import type { ReconnectTimer } from "./reconnect-timer.js";

/** An application message as the app gave it (for error reports) and as it goes on the wire. */
export interface Outgoing {
  readonly data: unknown;
  readonly text: string;
}

/**
 * What outlives a connection attempt: the session's identity, the heartbeat
 * settings the app chose, the messages it holds, and when to try again.
 * Everything that dies with a socket is in `link.ts`.
 */
export interface Session {
  /** From the current (or last) `welcome`. */
  sessionId: string | undefined;
  /** The server's terms from the current (or last) `welcome`. */
  terms: HeartbeatTerms | undefined;
  /** `heartbeat.pause()`: lasts across attempts until `resume()`. */
  paused: boolean;
  readonly reconnect: ReconnectTimer;
  /** Messages waiting for the next `welcome`. */
  readonly queued: number;
  /** Keeps a message for the next `welcome`; false when the session holds its bound. */
  hold(message: Outgoing): boolean;
  /** Every queued message, oldest first, taken out to go on a fresh connection (or be reported). */
  takeQueued(): Outgoing[];
}

/**
 * `maxMessages` bounds everything the session holds. Today that is the
 * outbox; resumable sessions add the sent-but-unacknowledged messages (kept
 * for replay by seq), which count toward the same bound: `held()` becomes
 * their sum and `hold` needs no other change.
 */
export function createSession(maxMessages: number, reconnect: ReconnectTimer): Session {
  const outbox: Outgoing[] = [];
  const held = (): number => outbox.length;
  return {
    sessionId: undefined,
    terms: undefined,
    paused: false,
    reconnect,
    get queued() {
      return outbox.length;
    },
    hold(message) {
      if (held() >= maxMessages) return false;
      outbox.push(message);
      return true;
    },
    takeQueued: () => outbox.splice(0),
  };
}

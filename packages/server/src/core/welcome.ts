import {
  encodeServerMessage,
  PROTOCOL_VERSION,
  type RateTerms,
  type ResumeFailure,
  type WelcomeMessage,
} from "@heartline/protocol";

/** The heartbeat terms every `welcome` carries (one frozen object per server). */
export interface WelcomeTerms {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /**
   * The per-connection frame limit (`rateLimit`), announced as
   * `welcome.rate` so a client paces itself within it; absent when off.
   */
  readonly rate?: RateTerms | undefined;
}

/** The heartbeat half of `terms`, shared by every welcome of a server (made once per terms object). */
const heartbeats = new WeakMap<WelcomeTerms, { intervalMs: number; timeoutMs: number }>();

function heartbeatOf(terms: WelcomeTerms): { intervalMs: number; timeoutMs: number } {
  let heartbeat = heartbeats.get(terms);
  if (heartbeat === undefined) {
    heartbeat = Object.freeze({ intervalMs: terms.intervalMs, timeoutMs: terms.timeoutMs });
    heartbeats.set(terms, heartbeat);
  }
  return heartbeat;
}

/**
 * The welcome frame, always a connection's first: the heartbeat terms, the
 * rate terms when a limit is on; plain v1 without `resume`;
 * with it, the token and window, and then `resumed` (an `{ ack }`) or
 * `resumeFailed` (a failure name) when the client offered a token.
 */
export function welcomeFrame(
  sessionId: string,
  terms: WelcomeTerms,
  resume?: { token: string; windowMs: number },
  outcome?: { ack: number } | ResumeFailure,
): string {
  const message: WelcomeMessage = {
    type: "welcome",
    protocol: PROTOCOL_VERSION,
    sessionId,
    heartbeat: heartbeatOf(terms),
  };
  if (terms.rate !== undefined) message.rate = terms.rate;
  if (resume !== undefined) {
    message.resume = resume;
    if (typeof outcome === "string") message.resumeFailed = outcome;
    else if (outcome !== undefined) message.resumed = outcome;
  }
  return encodeServerMessage(message);
}

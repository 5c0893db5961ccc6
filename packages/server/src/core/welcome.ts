import {
  encodeServerMessage,
  PROTOCOL_VERSION,
  type ResumeFailure,
  type WelcomeMessage,
} from "@heartline/protocol";

/** The heartbeat terms every `welcome` carries (one frozen object per server). */
export interface WelcomeTerms {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/**
 * The welcome frame, always a connection's first: plain v1 without `resume`;
 * with it, the token and window, and then `resumed` (an `{ ack }`) or
 * `resumeFailed` (a failure name) when the client offered a token.
 */
export function welcomeFrame(
  sessionId: string,
  heartbeat: WelcomeTerms,
  resume?: { token: string; windowMs: number },
  outcome?: { ack: number } | ResumeFailure,
): string {
  const message: WelcomeMessage = {
    type: "welcome",
    protocol: PROTOCOL_VERSION,
    sessionId,
    heartbeat,
  };
  if (resume !== undefined) {
    message.resume = resume;
    if (typeof outcome === "string") message.resumeFailed = outcome;
    else if (outcome !== undefined) message.resumed = outcome;
  }
  return encodeServerMessage(message);
}

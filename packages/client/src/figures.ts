import type { RoundTripTime } from "./types.js";

/** The weight of a new RTT sample in the smoothed value: TCP's SRTT gain (RFC 6298). */
const RTT_GAIN = 1 / 8;

/**
 * The client's running figures, across every connection (except `rtt`,
 * which starts over at each `welcome`). Links write them; `client.stats`
 * and `client.rtt` read copies.
 */
export interface Figures {
  pingsSent: number;
  pongsReceived: number;
  /** Pings that got no pong before the next ping or the end of their connection. */
  missedBeats: number;
  lastHeardAt: number | undefined;
  lastPingAt: number | undefined;
  readonly rtt: RoundTripTime;
}

export function createFigures(): Figures {
  return {
    pingsSent: 0,
    pongsReceived: 0,
    missedBeats: 0,
    lastHeardAt: undefined,
    lastPingAt: undefined,
    rtt: { latestMs: undefined, smoothedMs: undefined },
  };
}

export function recordRtt(rtt: RoundTripTime, rttMs: number): void {
  rtt.latestMs = rttMs;
  rtt.smoothedMs =
    rtt.smoothedMs === undefined ? rttMs : rtt.smoothedMs + RTT_GAIN * (rttMs - rtt.smoothedMs);
}

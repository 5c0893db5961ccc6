import { type Clock, DisconnectReason, type TimerHandle } from "@heartline/protocol";
import { metricsDefaults, onTimeoutLateness, type ServerStats } from "@heartline/server";
import type { ResolvedDashboardOptions } from "./options.js";

/** What the page is sent first: the fixed shape of every sample. */
export interface SampleShape {
  readonly sampleIntervalMs: number;
  readonly reasons: readonly DisconnectReason[];
  /** Upper bounds (seconds) of the lateness buckets; one more bucket holds the rest. */
  readonly latenessBuckets: readonly number[];
}

/** One sample: rates over the interval that just ended, and the gauges now. */
export interface Sample {
  /** Clock time of the sample, ms. */
  readonly t: number;
  readonly open: number;
  /** Disconnects per second in the interval, by reason. */
  readonly disconnects: Readonly<Record<DisconnectReason, number>>;
  /** Refused upgrades per second in the interval, by HTTP status. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Timeouts reported in the interval, per lateness bucket. */
  readonly lateness: readonly number[];
  /** RTT the application reported in the interval (ms), or null without any. */
  readonly rtt: { count: number; mean: number; max: number } | null;
  /**
   * Resumable sessions now (`live`: on an open connection; `waiting`: for
   * their client, in their window) and since start (`resumed`, `ended`,
   * `evicted`); all zero with resumption off.
   */
  readonly sessions: {
    readonly live: number;
    readonly waiting: number;
    readonly resumed: number;
    readonly ended: number;
    readonly evicted: number;
  };
  /** Totals since the server started (for the figures beside the charts). */
  readonly totals: {
    readonly disconnects: Readonly<Record<DisconnectReason, number>>;
    readonly rejected: Readonly<Record<string, number>>;
  };
}

export type Viewer = (sample: Sample) => void;

const reasons = Object.values(DisconnectReason);
const boundaries = metricsDefaults.timeoutLatenessBuckets;

function bucketOf(seconds: number): number {
  for (let i = 0; i < boundaries.length; i++) if (seconds <= boundaries[i]!) return i;
  return boundaries.length;
}

/**
 * Takes samples only while someone watches: the first viewer starts one
 * timer and the lateness listener, the last one to leave removes both. With
 * no viewer the dashboard costs the server nothing (no timer, no listener;
 * `recordRtt` returns at once).
 */
export class LiveSampler {
  readonly shape: SampleShape;
  readonly #options: ResolvedDashboardOptions;
  readonly #clock: Clock;
  readonly #viewers = new Set<Viewer>();
  #timer: TimerHandle | undefined;
  #stopLateness: (() => void) | undefined;
  #previous: ServerStats | undefined;
  #previousAt = 0;
  #lateness: number[] = [];
  #rtt = { count: 0, sum: 0, max: 0 };

  constructor(options: ResolvedDashboardOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.shape = Object.freeze({
      sampleIntervalMs: options.sampleIntervalMs,
      reasons,
      latenessBuckets: boundaries,
    });
  }

  /** Whether any viewer is connected (sampling runs only then). */
  get watching(): boolean {
    return this.#viewers.size > 0;
  }

  /** Adds a viewer, sends it a first sample at once; returns a function that removes it. */
  watch(viewer: Viewer): () => void {
    if (this.#viewers.size === 0) this.#start();
    this.#viewers.add(viewer);
    viewer(this.#sample(false));
    return () => {
      if (this.#viewers.delete(viewer) && this.#viewers.size === 0) this.#stop();
    };
  }

  recordRtt(ms: number): void {
    if (this.#viewers.size === 0 || !(ms >= 0)) return;
    const rtt = this.#rtt;
    rtt.count++;
    rtt.sum += ms;
    if (ms > rtt.max) rtt.max = ms;
  }

  #start(): void {
    this.#previous = this.#options.server.stats();
    this.#previousAt = this.#clock.now();
    this.#lateness = new Array(boundaries.length + 1).fill(0);
    this.#rtt = { count: 0, sum: 0, max: 0 };
    this.#stopLateness = onTimeoutLateness(this.#options.server, (seconds) => {
      this.#lateness[bucketOf(seconds)]!++;
    });
    this.#schedule();
  }

  #stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopLateness?.();
    this.#stopLateness = undefined;
    this.#previous = undefined;
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const sample = this.#sample(true);
      for (const viewer of this.#viewers) viewer(sample);
      if (this.#viewers.size > 0) this.#schedule();
    }, this.#options.sampleIntervalMs);
  }

  /** A sample; `advance` closes the interval (the first sample a viewer gets does not). */
  #sample(advance: boolean): Sample {
    const now = this.#clock.now();
    const stats = this.#options.server.stats();
    const previous = this.#previous ?? stats;
    const seconds = Math.max(now - this.#previousAt, 1) / 1000;
    const disconnects = {} as Record<DisconnectReason, number>;
    for (const reason of reasons) {
      disconnects[reason] = advance
        ? (stats.disconnects[reason] - previous.disconnects[reason]) / seconds
        : 0;
    }
    const rejected: Record<string, number> = {};
    for (const [status, count] of Object.entries(stats.upgradesRejected)) {
      const before = previous.upgradesRejected[Number(status)] ?? 0;
      rejected[status] = advance ? (count - before) / seconds : 0;
    }
    const rtt = this.#rtt;
    const sample: Sample = {
      t: now,
      open: stats.open,
      disconnects,
      sessions: {
        live: stats.sessions.live,
        waiting: stats.sessions.detached,
        resumed: stats.sessions.resumed,
        ended: stats.sessions.ended,
        evicted: stats.sessions.evicted,
      },
      rejected,
      lateness: advance ? this.#lateness : new Array(boundaries.length + 1).fill(0),
      rtt:
        advance && rtt.count > 0
          ? { count: rtt.count, mean: rtt.sum / rtt.count, max: rtt.max }
          : null,
      totals: { disconnects: stats.disconnects, rejected: stats.upgradesRejected },
    };
    if (advance) {
      this.#previous = stats;
      this.#previousAt = now;
      this.#lateness = new Array(boundaries.length + 1).fill(0);
      this.#rtt = { count: 0, sum: 0, max: 0 };
    }
    return sample;
  }
}

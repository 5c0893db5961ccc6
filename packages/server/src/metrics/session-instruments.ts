import type { Meter } from "@opentelemetry/api";
import type { InstrumentableCore } from "./instrument.js";
import { HeartlineMetricAttribute as A, HeartlineMetric as M } from "./names.js";
import { observeWhileAlive } from "./weak-batch.js";

/**
 * The resumable-session instruments: the counts kept in `stats().sessions`
 * read at collection time, resumes and ends counted from their events (one
 * per session or resume, never per frame). All stay at zero with
 * resumption off.
 */
export function instrumentSessions(core: InstrumentableCore, meter: Meter): void {
  const waiting = meter.createObservableUpDownCounter(M.SessionsWaiting, {
    description: "Resumable sessions waiting for their client (connection gone, window running).",
    unit: "{session}",
  });
  const evictions = meter.createObservableCounter(M.SessionEvictions, {
    description: "Waiting sessions evicted by the per-address, per-client or table bounds.",
    unit: "{session}",
  });
  const refusals = meter.createObservableCounter(M.SessionRefusals, {
    description:
      "Clients offering resumption served plain v1: the table was full of live sessions.",
    unit: "{session}",
  });
  observeWhileAlive(meter, core, [waiting, evictions, refusals], (target, result) => {
    const sessions = target.stats().sessions;
    result.observe(waiting, sessions.detached);
    result.observe(evictions, sessions.evicted);
    result.observe(refusals, sessions.refused);
  });

  const resumes = meter.createCounter(M.Resumes, {
    description: "Sessions resumed on a new connection.",
    unit: "{resume}",
  });
  const ends = meter.createCounter(M.SessionEnds, {
    description: "Resumable sessions ended, each counted once, by reason.",
    unit: "{session}",
  });
  const undelivered = meter.createCounter(M.UndeliveredMessages, {
    description:
      "Messages a session still held unacknowledged when it ended (reported on sessionEnd).",
    unit: "{message}",
  });
  core.on("resumed", () => resumes.add(1));
  core.on("sessionEnd", (info) => {
    const attributes = { [A.SessionEndReason]: info.reason };
    ends.add(1, attributes);
    if (info.undelivered.length > 0) undelivered.add(info.undelivered.length, attributes);
  });
}

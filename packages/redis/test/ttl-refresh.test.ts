// The TTL refresh of attached sessions, spread over its period (issue 26:
// refreshing 14,000 sessions in one pipeline held a process's loop for about
// a second). On fake time, against a host that records each batch.
import { describe, expect, it } from "vitest";
import type { BatchOp, BatchReply } from "../src/session-batch.js";
import { TtlRefresh, type TtlRefreshHost } from "../src/ttl-refresh.js";
import { fakeTime } from "./support/session-driver.js";

interface S {
  id: string;
  attached: boolean;
}

// Lets the batch promises of the steps so far settle.
const settle = () => new Promise((r) => setImmediate(r));

function harness(count: number, periodMs: number) {
  const time = fakeTime();
  const sessions = new Map<string, S>();
  for (let i = 0; i < count; i++) sessions.set(`s${i}`, { id: `s${i}`, attached: true });
  const batches: string[][] = [];
  const failures: unknown[] = [];
  let link = true;
  let answer: (ops: readonly BatchOp[]) => Promise<BatchReply[]> = async (ops) =>
    ops.map(() => ({ ok: true, value: 1 }));
  const host: TtlRefreshHost<S> = {
    clock: time.clock,
    sessions: () => sessions.values(),
    count: () => sessions.size,
    opsFor: (s) => (s.attached ? [{ command: "PEXPIRE", args: [s.id, 1000] }] : undefined),
    linkUp: () => link,
    batch: (ops) => {
      batches.push(ops.map((op) => String(op.args[0])));
      return answer(ops);
    },
    failed: (error) => void failures.push(error),
  };
  const refresh = new TtlRefresh(host, periodMs);
  refresh.start();
  const refreshed = () => new Set(batches.flat());
  let elapsed = 0;
  /** Advances `ms` of fake time, letting each step's round trip settle before the next step. */
  const advance = async (ms: number, stepMs = 250) => {
    while (ms > 0) {
      const d = Math.min(ms, stepMs - (elapsed % stepMs));
      time.tick(d);
      elapsed += d;
      ms -= d;
      await settle();
    }
  };
  return {
    time,
    advance,
    sessions,
    batches,
    failures,
    refresh,
    refreshed,
    setLink: (up: boolean) => {
      link = up;
    },
    setAnswer: (f: typeof answer) => {
      answer = f;
    },
  };
}

describe("TtlRefresh", () => {
  it("refreshes every attached session once per period, a slice per step: all at T, not at T − 1 ms", async () => {
    // 1,000 sessions, a 10 s period: a step every 250 ms, 25 sessions each.
    const h = harness(1000, 10_000);
    await h.advance(9_999);
    expect(h.refreshed().size).toBe(975);
    await h.advance(1);
    expect(h.refreshed().size).toBe(1000);
    expect(h.batches).toHaveLength(40);
    expect(Math.max(...h.batches.map((b) => b.length))).toBe(25);
  });

  it("never sends one pipeline for all: 14,000 sessions over a 60 s period are 59 per step", async () => {
    const h = harness(14_000, 60_000);
    await h.advance(60_000);
    expect(h.refreshed().size).toBe(14_000);
    expect(Math.max(...h.batches.map((b) => b.length))).toBe(59);
  });

  it("skips sessions that are not attached, and refreshes one added during a pass", async () => {
    const h = harness(100, 1_000); // a step every 250 ms, 25 per step
    h.sessions.get("s3")!.attached = false;
    await h.advance(250);
    h.sessions.set("late", { id: "late", attached: true });
    await h.advance(1_000);
    const seen = h.refreshed();
    expect(seen.has("s3")).toBe(false);
    expect(seen.has("late")).toBe(true);
    expect(seen.size).toBe(100);
  });

  it("sends nothing while the link is down, and goes on from where it was when it is back", async () => {
    const h = harness(100, 1_000);
    await h.advance(250);
    expect(h.batches).toHaveLength(1);
    h.setLink(false);
    await h.advance(1_000);
    expect(h.batches).toHaveLength(1);
    h.setLink(true);
    await h.advance(250);
    expect(h.batches[1]![0]).toBe("s25");
  });

  it("skips a step while the previous round trip is out, and reports a failed refresh", async () => {
    const h = harness(100, 1_000);
    let release!: () => void;
    h.setAnswer(
      (ops) =>
        new Promise((resolve) => {
          release = () => resolve(ops.map(() => ({ ok: false, error: new Error("READONLY") })));
        }),
    );
    await h.advance(500);
    expect(h.batches).toHaveLength(1);
    release();
    await settle();
    expect(h.failures).toHaveLength(1);
    await h.advance(250);
    expect(h.batches).toHaveLength(2);
  });

  it("stops: no step after stop()", () => {
    const h = harness(10, 1_000);
    h.refresh.stop();
    h.time.tick(5_000);
    expect(h.batches).toEqual([]);
  });
});

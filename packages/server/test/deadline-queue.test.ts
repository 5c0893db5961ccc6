// The shared silence watch, alone: a fake clock, plain entries, no server.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Deadlined, DeadlineQueue } from "../src/core/deadline-queue.js";
import { fakeClock } from "./helpers.js";

const TIMEOUT = 2000;

interface Entry extends Deadlined {
  readonly id: number;
}

function setup(timeoutMs = TIMEOUT) {
  const { fc: clock, clock: heartlineClock } = fakeClock();
  const queue = new DeadlineQueue<Entry>(heartlineClock, timeoutMs);
  /** [id, clock time] for each deadline reported, in order. */
  const fired: Array<[number, number]> = [];
  let onFire: (entry: Entry) => void = () => {};
  const entry = (id: number): Entry => ({
    id,
    lastHeardAt: clock.now,
    queueSlot: -1,
    deadlinePassed() {
      fired.push([id, clock.now]);
      onFire(this);
    },
  });
  const entries = new Map<number, Entry>();
  const add = (id: number): Entry => {
    const e = entry(id);
    entries.set(id, e);
    queue.add(e);
    return e;
  };
  const setOnFire = (fn: (entry: Entry) => void): void => {
    onFire = fn;
  };
  return { clock, queue, fired, entry, add, entries, setOnFire, t0: clock.now };
}

describe("DeadlineQueue", () => {
  it("reports at exactly lastHeardAt + timeoutMs: nothing at − 1 ms", () => {
    const { clock, add, fired, t0 } = setup();
    add(1);
    clock.tick(TIMEOUT - 1);
    expect(fired).toEqual([]);
    clock.tick(1);
    expect(fired).toEqual([[1, t0 + TIMEOUT]]);
  });

  it("reports entries in deadline order, each at its own deadline", () => {
    const { clock, add, fired, t0 } = setup();
    add(1);
    clock.tick(300);
    add(2);
    clock.tick(1);
    add(3);
    clock.tick(5000);
    expect(fired).toEqual([
      [1, t0 + TIMEOUT],
      [2, t0 + 300 + TIMEOUT],
      [3, t0 + 301 + TIMEOUT],
    ]);
  });

  it("an entry added with an earlier deadline than the armed one still fires on time", () => {
    const { clock, queue, entry, fired, t0 } = setup();
    const late = entry(1);
    late.lastHeardAt = t0 + 500;
    queue.add(late);
    queue.add(entry(2)); // deadline t0 + TIMEOUT, before late's
    clock.tick(TIMEOUT + 500);
    expect(fired).toEqual([
      [2, t0 + TIMEOUT],
      [1, t0 + 500 + TIMEOUT],
    ]);
  });

  it("a frame heard before the deadline pushes the entry back to its real deadline (2X − 1 → 4X − 1)", () => {
    const { clock, add, fired, t0 } = setup();
    const e = add(1);
    clock.tick(TIMEOUT - 1);
    e.lastHeardAt = clock.now;
    clock.tick(1);
    expect(fired).toEqual([]);
    clock.tick(TIMEOUT - 2); // 4X − 2
    expect(fired).toEqual([]);
    clock.tick(1);
    expect(fired).toEqual([[1, t0 + 2 * TIMEOUT - 1]]);
  });

  it("removal from the middle: the removed entry never fires, the others keep their times", () => {
    const { clock, queue, add, fired, t0 } = setup();
    const entries = [];
    for (let i = 0; i < 7; i++) {
      entries.push(add(i));
      clock.tick(10);
    }
    queue.remove(entries[3]!);
    queue.remove(entries[3]!); // twice is harmless
    queue.remove(entries[0]!); // the earliest, with the timer armed for it
    expect(queue.size).toBe(5);
    clock.tick(TIMEOUT);
    expect(fired).toEqual(
      [1, 2, 4, 5, 6].map((i) => [i, t0 + i * 10 + TIMEOUT] as [number, number]),
    );
    expect(queue.size).toBe(0);
  });

  it("holds one clock timer however many entries, and none once empty", () => {
    const { clock, queue, add } = setup();
    const entries = [];
    for (let i = 0; i < 1000; i++) entries.push(add(i));
    expect(clock.countTimers()).toBe(1);
    for (const e of entries) queue.remove(e);
    expect(clock.countTimers()).toBe(0);
    add(1);
    clock.tick(TIMEOUT);
    expect(clock.countTimers()).toBe(0);
  });

  it("a re-added entry counts from its lastHeardAt again", () => {
    const { clock, queue, add, fired, t0 } = setup();
    const e = add(1);
    clock.tick(TIMEOUT);
    e.lastHeardAt = clock.now;
    queue.add(e);
    queue.add(e); // already queued: no-op
    expect(queue.size).toBe(1);
    clock.tick(TIMEOUT);
    expect(fired).toEqual([
      [1, t0 + TIMEOUT],
      [1, t0 + 2 * TIMEOUT],
    ]);
  });

  it("a handler may remove and add entries while the queue fires", () => {
    const { clock, queue, add, fired, setOnFire, t0, entries } = setup();
    const a = add(1);
    clock.tick(1);
    add(2);
    clock.tick(1);
    add(3);
    setOnFire((e) => {
      if (e === a) {
        queue.remove(entries.get(2)!);
        add(4);
      }
    });
    clock.tick(TIMEOUT);
    expect(fired).toEqual([
      [1, t0 + TIMEOUT],
      [3, t0 + 2 + TIMEOUT],
    ]);
    clock.tick(TIMEOUT);
    expect(fired.at(-1)).toEqual([4, t0 + 2 * TIMEOUT]);
    expect(clock.countTimers()).toBe(0);
  });

  it("many entries: 20,000 with scattered frames all fire exactly at their real deadlines", () => {
    const { clock, queue, add, fired, t0 } = setup();
    const entries: Entry[] = [];
    for (let i = 0; i < 20_000; i++) entries.push(add(i));
    const expected = new Map<number, number>();
    // Entry i is last heard at t0 + (i % 1999) ms: about ten entries per millisecond.
    for (let t = 1; t < 1999; t++) {
      clock.tick(1);
      for (let i = t; i < entries.length; i += 1999) entries[i]!.lastHeardAt = clock.now;
    }
    for (const e of entries) expected.set(e.id, e.lastHeardAt + TIMEOUT);
    expect(queue.size).toBe(20_000);
    clock.tick(2 * TIMEOUT);
    expect(fired).toHaveLength(20_000);
    for (const [id, at] of fired) expect(at).toBe(expected.get(id));
    for (let i = 1; i < fired.length; i++)
      expect(fired[i]![1]).toBeGreaterThanOrEqual(fired[i - 1]![1]);
    expect(fired[0]![1]).toBe(t0 + TIMEOUT);
  });

  it("matches a naive model under any sequence of add, remove, hear and tick", () => {
    type Op =
      | { kind: "add"; id: number }
      | { kind: "remove"; id: number }
      | { kind: "hear"; id: number }
      | { kind: "tick"; ms: number };
    const id = fc.integer({ min: 0, max: 11 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      id.map((i) => ({ kind: "add" as const, id: i })),
      id.map((i) => ({ kind: "remove" as const, id: i })),
      id.map((i) => ({ kind: "hear" as const, id: i })),
      fc.integer({ min: 0, max: 700 }).map((ms) => ({ kind: "tick" as const, ms })),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1500 }),
        fc.array(op, { maxLength: 80 }),
        (timeout, ops) => {
          const { clock, queue, entry, fired } = setup(timeout);
          const entries = new Map<number, Entry>();
          const get = (i: number): Entry => {
            let e = entries.get(i);
            if (e === undefined) {
              e = entry(i);
              entries.set(i, e);
            }
            return e;
          };
          // The model: when each queued id is due. Heard + timeout, or at once when that is past
          // on adding (the server never adds such an entry; the queue still reports it).
          const queued = new Map<number, number>();
          const heard = new Map<number, number>();
          const expected: Array<[number, number]> = [];
          for (const o of ops) {
            if (o.kind === "add") {
              queue.add(get(o.id));
              const at = (heard.get(o.id) ?? get(o.id).lastHeardAt) + timeout;
              if (!queued.has(o.id)) queued.set(o.id, Math.max(at, clock.now));
            } else if (o.kind === "remove") {
              queue.remove(get(o.id));
              queued.delete(o.id);
            } else if (o.kind === "hear") {
              get(o.id).lastHeardAt = clock.now;
              heard.set(o.id, clock.now);
              if (queued.has(o.id)) queued.set(o.id, clock.now + timeout);
            } else {
              const end = clock.now + o.ms;
              const due = [...queued].filter(([, at]) => at <= end);
              for (const [i] of due) queued.delete(i);
              expected.push(...due);
              clock.tick(o.ms);
            }
            expect(clock.countTimers()).toBe(queued.size > 0 ? 1 : 0);
            expect(queue.size).toBe(queued.size);
          }
          const byTimeThenId = (a: [number, number], b: [number, number]) =>
            a[1] - b[1] || a[0] - b[0];
          expect([...fired].sort(byTimeThenId)).toEqual(expected.sort(byTimeThenId));
          // Reported in time order.
          for (let i = 1; i < fired.length; i++)
            expect(fired[i]![1]).toBeGreaterThanOrEqual(fired[i - 1]![1]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

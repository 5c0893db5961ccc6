// Periodic work over many items, a slice at a time (issue 26): every item
// once per period, never all in one step, on fake time at the boundary.
import { describe, expect, it } from "vitest";
import { SlicedSweep } from "../src/core/sliced-sweep.js";
import { fakeClock } from "./helpers.js";

function sweep(count: number, periodMs: number, ready: () => boolean = () => true) {
  const { fc, clock } = fakeClock();
  const items = new Set<number>();
  for (let i = 0; i < count; i++) items.add(i);
  const slices: number[][] = [];
  const s = new SlicedSweep<number>({
    clock,
    periodMs,
    items: () => items.values(),
    count: () => items.size,
    visit: (slice) => void slices.push([...slice]),
    ready,
  });
  s.start();
  const visits = () => slices.flat();
  return { fc, items, slices, visits, s };
}

describe("SlicedSweep", () => {
  it("visits each of 15,000 items once per period, 62 or 63 a step: all at T, one step short at T − 1 ms", () => {
    const h = sweep(15_000, 60_000); // a step every 250 ms: 62.5 items each
    h.fc.tick(59_999);
    expect(new Set(h.visits()).size).toBe(15_000 - 63);
    h.fc.tick(1);
    expect(h.visits()).toHaveLength(15_000);
    expect(new Set(h.visits()).size).toBe(15_000);
    expect(Math.max(...h.slices.map((s) => s.length))).toBe(63);
  });

  it("visits one item once per period, not once per step", () => {
    const h = sweep(1, 30_000);
    h.fc.tick(29_999);
    expect(h.visits()).toEqual([]);
    h.fc.tick(1);
    expect(h.visits()).toEqual([0]);
    h.fc.tick(30_000);
    expect(h.visits()).toEqual([0, 0]);
  });

  it("takes items added meanwhile into the pass, and drops removed ones", () => {
    const h = sweep(4, 1_000); // a step every 250 ms, one item each
    h.fc.tick(250);
    h.items.delete(1);
    h.items.add(9);
    h.fc.tick(750);
    expect(h.visits()).toEqual([0, 2, 3, 9]);
  });

  it("skips a step while not ready, keeping its place; stops", () => {
    let ready = true;
    const h = sweep(4, 1_000, () => ready);
    h.fc.tick(250);
    ready = false;
    h.fc.tick(500);
    ready = true;
    h.fc.tick(250);
    expect(h.visits()).toEqual([0, 1]);
    h.s.stop();
    expect(h.s.running).toBe(false);
    h.fc.tick(5_000);
    expect(h.visits()).toEqual([0, 1]);
  });
});

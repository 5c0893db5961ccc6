import FakeTimers from "@sinonjs/fake-timers";
import { describe, expect, it } from "vitest";
import { clockOf } from "../src/index.js";

describe("clockOf: a Heartline Clock over a fake-timers clock", () => {
  it("reads the fake time, fires at exactly the delay, and cancels", () => {
    const fc = FakeTimers.createClock(1_000_000);
    const clock = clockOf(fc);
    expect(clock.now()).toBe(1_000_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 100);
    const cancelled = clock.setTimeout(() => fired.push(-1), 100);
    clock.clearTimeout(cancelled);
    fc.tick(99);
    expect(fired).toEqual([]);
    fc.tick(1);
    expect(fired).toEqual([1_000_100]);
    fc.tick(1000);
    expect(fired).toEqual([1_000_100]);
  });
});

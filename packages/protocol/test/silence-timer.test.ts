import FakeTimers from "@sinonjs/fake-timers";
import { describe, expect, it } from "vitest";
import { clockOf, SilenceTimer } from "../src/index.js";

function setup(timeoutMs: number) {
  const fake = FakeTimers.createClock(1_000_000);
  const clock = clockOf(fake);
  let silences = 0;
  const timer = new SilenceTimer(clock, timeoutMs, () => silences++);
  return { fake, timer, silences: () => silences };
}

describe("SilenceTimer", () => {
  it("is quiet at timeout − 1 ms and fires at timeout", () => {
    const { fake, timer, silences } = setup(2000);
    timer.start();
    fake.tick(1999);
    expect(silences()).toBe(0);
    fake.tick(1);
    expect(silences()).toBe(1);
  });

  it("moves the deadline when touched, exactly to last touch + timeout", () => {
    const { fake, timer, silences } = setup(2000);
    timer.start();
    fake.tick(1999);
    timer.touch();
    fake.tick(1999);
    expect(silences()).toBe(0);
    fake.tick(1);
    expect(silences()).toBe(1);
  });

  it("arms no timer per touch: one pending timer whatever the traffic", () => {
    const { fake, timer } = setup(2000);
    timer.start();
    for (let i = 0; i < 1000; i++) {
      timer.touch();
      fake.tick(1);
    }
    expect(fake.countTimers()).toBe(1);
  });

  it("reports expired before its timer fires (a frozen page waking late)", () => {
    const { fake, timer, silences } = setup(2000);
    timer.start();
    expect(timer.expired).toBe(false);
    fake.setSystemTime(fake.now + 2000); // the wall clock jumps; no timer has run
    expect(timer.expired).toBe(true);
    expect(silences()).toBe(0);
  });

  it("never fires after stop", () => {
    const { fake, timer, silences } = setup(2000);
    timer.start();
    timer.stop();
    fake.tick(10_000);
    expect(silences()).toBe(0);
    expect(timer.running).toBe(false);
  });
});

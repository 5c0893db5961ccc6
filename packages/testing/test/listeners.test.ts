// The testing kit's part of the one policy for a throwing listener: a wait's
// predicate that throws rejects that wait (and nothing else), and the timeline
// keeps recording.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../src/index.js";

const X = 1000;
let h: Harness;

afterEach(async () => {
  await h?.close();
});

/** Collects uncaught exceptions until `stop()`. */
function catchUncaught(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onUncaught = (error: unknown) => errors.push(error);
  process.on("uncaughtException", onUncaught);
  return { errors, stop: () => process.off("uncaughtException", onUncaught) };
}

describe("a throwing predicate", () => {
  it("waitFor.entry rejects with the predicate's error as soon as it throws; recording goes on", async () => {
    h = await createHarness({ server: { intervalMs: X } });
    const c = await h.client();
    await h.waitFor.clientState(c, "open", { within: 0 });
    const bug = new Error("predicate bug");
    const uncaught = catchUncaught();
    try {
      const since = h.now;
      await expect(
        h.waitFor.entry((e) => {
          if (e.kind === "frame" && e.type === "ping") throw bug;
          return false;
        }),
      ).rejects.toBe(bug);
      // It stopped at the first ping (X after the welcome), not after withinMs.
      expect(h.now - since).toBe(X);
      const pongs = () => h.timeline.entries.filter((e) => e.kind === "frame" && e.type === "pong");
      const before = pongs().length;
      await h.advance(X);
      expect(pongs().length).toBe(before + 1);
      expect(c.state).toBe("open");
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      uncaught.stop();
    }
    expect(uncaught.errors).toEqual([]);
  });

  it("expectNo.entry rejects with the predicate's error", async () => {
    h = await createHarness({ server: { intervalMs: X } });
    const c = await h.client();
    await h.waitFor.clientState(c, "open", { within: 0 });
    const bug = new Error("predicate bug");
    await expect(
      h.expectNo.entry(
        (e) => {
          if (e.kind === "frame") throw bug;
          return false;
        },
        { within: 2 * X },
      ),
    ).rejects.toBe(bug);
  });
});

// The one listener policy: a throw disturbs neither the core nor the other
// listeners; it goes to `error` (listener_threw), or, with no `error`
// listener, is rethrown on a microtask (never swallowed).
import { afterEach, describe, expect, it, vi } from "vitest";
import { createServerCore, type HeartlineError } from "../src/core/index.js";
import { captureRethrows } from "./helpers.js";

const upgrade = { url: "/elsewhere", headers: {} };
const refusedUpgrade = { ...upgrade, remoteAddress: "10.0.0.1", raw: upgrade };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a listener that throws", () => {
  it("is reported on error as listener_threw with the throw as cause; later listeners still run", async () => {
    const rethrown = captureRethrows();
    const thrown = new Error("app bug");
    const errors: HeartlineError[] = [];
    const later = vi.fn();
    const core = createServerCore({ on: { error: (e) => errors.push(e) } });
    core.on("upgradeRejected", () => {
      throw thrown;
    });
    core.on("upgradeRejected", later);
    expect(core.admit(refusedUpgrade)).toMatchObject({ status: 404 });
    expect(later).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([expect.objectContaining({ code: "listener_threw", cause: thrown })]);
    await Promise.resolve();
    expect(rethrown).toEqual([]);
    expect(core.stats().upgradesRejected).toEqual({ 404: 1 });
  });

  it("with no error listener, is rethrown on a microtask (not inside the core's call)", async () => {
    const rethrown = captureRethrows();
    const thrown = new Error("app bug");
    const core = createServerCore();
    core.on("upgradeRejected", () => {
      throw thrown;
    });
    expect(() => core.admit(refusedUpgrade)).not.toThrow();
    expect(rethrown).toEqual([]);
    await Promise.resolve();
    expect(rethrown).toEqual([thrown]);
  });

  it("whose error listener throws too: the original and that throw are rethrown on a microtask, once each", async () => {
    const rethrown = captureRethrows();
    const thrown = new Error("app bug");
    const listenerBug = new Error("error listener bug");
    const core = createServerCore({
      on: {
        error: () => {
          throw listenerBug;
        },
      },
    });
    core.on("upgradeRejected", () => {
      throw thrown;
    });
    core.admit(refusedUpgrade);
    await Promise.resolve();
    expect(rethrown).toEqual([listenerBug, thrown]);
  });

  it("an error listener that throws on a reported error: that throw and the error are rethrown, the next error listener still hears it", async () => {
    const rethrown = captureRethrows();
    const listenerBug = new Error("error listener bug");
    const heard: string[] = [];
    const core = createServerCore({
      on: {
        error: () => {
          throw listenerBug;
        },
      },
    });
    core.on("error", (e) => heard.push(e.code));
    core.reportAcceptError(new Error("EMFILE"));
    expect(heard).toEqual(["descriptors_exhausted"]);
    await Promise.resolve();
    expect(rethrown).toEqual([
      listenerBug,
      expect.objectContaining({ code: "descriptors_exhausted" }),
    ]);
  });
});

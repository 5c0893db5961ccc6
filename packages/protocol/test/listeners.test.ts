import { afterEach, describe, expect, it, vi } from "vitest";
import { LISTENER_THREW, listenerThrew, rethrowLater } from "../src/index.js";

/** Microtasks queued while a test runs, so a rethrow is seen (and run) by the test, not the host. */
function captureMicrotasks(): Array<() => void> {
  const tasks: Array<() => void> = [];
  vi.stubGlobal("queueMicrotask", (task: () => void) => tasks.push(task));
  return tasks;
}

/** What each captured microtask throws, in order. */
function thrownBy(tasks: Array<() => void>): unknown[] {
  return tasks.map((task) => {
    try {
      task();
    } catch (error) {
      return error;
    }
    return "(did not throw)";
  });
}

class TestError extends Error {
  readonly code = LISTENER_THREW;
}
const wrap = (cause: unknown) => new TestError("a listener threw", { cause });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("listenerThrew: the one policy for a throwing listener", () => {
  it("reports the throw to every error listener as one listener_threw error with the cause", () => {
    const tasks = captureMicrotasks();
    const bug = new Error("bug");
    const seen: unknown[] = [];
    listenerThrew(bug, [(e: TestError) => seen.push(e), (e: TestError) => seen.push(e)], wrap);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).toMatchObject({ code: "listener_threw", cause: bug });
    expect(tasks).toHaveLength(0);
  });

  it("passes the extra arguments after the error", () => {
    captureMicrotasks();
    const seen: unknown[][] = [];
    listenerThrew(
      new Error("bug"),
      [(e: TestError, conn: string) => seen.push([e.code, conn])],
      wrap,
      "conn-1",
    );
    expect(seen).toEqual([["listener_threw", "conn-1"]]);
  });

  it("with no error listener, rethrows the original error on a microtask, not at once", () => {
    const tasks = captureMicrotasks();
    const bug = new Error("bug");
    let wrapped = 0;
    expect(() =>
      listenerThrew(bug, [], () => {
        wrapped++;
        return wrap(bug);
      }),
    ).not.toThrow();
    expect(wrapped).toBe(0);
    expect(thrownBy(tasks)).toEqual([bug]);
  });

  it("when the listener that threw was an error listener (undefined), rethrows it on a microtask", () => {
    const tasks = captureMicrotasks();
    const bug = new Error("error listener bug");
    listenerThrew(bug, undefined, wrap);
    expect(thrownBy(tasks)).toEqual([bug]);
  });

  it("an error listener that throws: the others still run, the original is rethrown once, and so is its own throw", () => {
    const tasks = captureMicrotasks();
    const bug = new Error("bug");
    const second = new Error("error listener bug");
    const seen: string[] = [];
    listenerThrew(
      bug,
      [
        () => {
          seen.push("first");
          throw second;
        },
        () => {
          seen.push("second");
          throw second;
        },
        () => seen.push("third"),
      ],
      wrap,
    );
    expect(seen).toEqual(["first", "second", "third"]);
    expect(thrownBy(tasks)).toEqual([second, second, bug]);
  });

  it("an error listener that rethrows the report or the cause: the original is rethrown once", () => {
    const tasks = captureMicrotasks();
    const bug = new Error("bug");
    listenerThrew(
      bug,
      [
        (e: TestError) => {
          throw e;
        },
        (e: TestError) => {
          throw e.cause;
        },
      ],
      wrap,
    );
    expect(thrownBy(tasks)).toEqual([bug]);
  });

  it("iterates a copy: an error listener that adds another does not run it for this report", () => {
    captureMicrotasks();
    const listeners = new Set<(e: TestError) => void>();
    let late = 0;
    listeners.add(() => listeners.add(() => late++));
    listenerThrew(new Error("bug"), listeners, wrap);
    expect(late).toBe(0);
    expect(listeners.size).toBe(2);
  });

  it("rethrowLater reaches the host's uncaught-exception handling", async () => {
    const bug = new Error("late");
    const seen: unknown[] = [];
    const listeners = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    process.on("uncaughtException", (e) => seen.push(e));
    try {
      rethrowLater(bug);
      expect(seen).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.removeAllListeners("uncaughtException");
      for (const l of listeners) process.on("uncaughtException", l);
    }
    expect(seen).toEqual([bug]);
  });
});

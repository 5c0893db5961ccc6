// The Web Worker clock, with a stand-in Worker that runs the real worker
// program (the Blob's text) in this thread against a fake clock.
import FakeTimers from "@sinonjs/fake-timers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorkerClock } from "../src/worker-clock.js";

type Handler = ((event: { data: unknown }) => void) | undefined;

const globals = globalThis as Record<string, unknown>;
const savedWorker = globals.Worker;
const savedCreate = URL.createObjectURL;
const savedRevoke = URL.revokeObjectURL;
let fc: FakeTimers.Clock;
let blobs: Map<string, Blob>;
let revoked: string[];
let workers: StandInWorker[];

class StandInWorker {
  onmessage: Handler = undefined;
  terminated = false;
  #inbox: Handler;
  #queue: unknown[] = [];
  constructor(readonly url: string) {
    workers.push(this);
  }
  /** Loads the worker's program from its Blob, as a browser would, then delivers queued messages. */
  async start(): Promise<void> {
    const source = await blobs.get(this.url)!.text();
    const scope = {
      setTimeout: (cb: () => void, ms: number) => fc.setTimeout(cb, ms),
      clearTimeout: (id: FakeTimers.TimerId) => fc.clearTimeout(id),
      postMessage: (data: unknown) => {
        if (!this.terminated) this.onmessage?.({ data });
      },
      onmessage: undefined as Handler,
    };
    new Function("scope", `with (scope) { ${source} }`)(scope);
    this.#inbox = scope.onmessage;
    for (const data of this.#queue.splice(0)) this.#inbox?.({ data });
  }
  postMessage(data: unknown): void {
    if (this.#inbox) this.#inbox({ data });
    else this.#queue.push(data);
  }
  terminate(): void {
    this.terminated = true;
  }
}

beforeEach(() => {
  fc = FakeTimers.createClock();
  blobs = new Map();
  revoked = [];
  workers = [];
  globals.Worker = StandInWorker;
  URL.createObjectURL = (blob: Blob) => {
    const url = `blob:test/${blobs.size}`;
    blobs.set(url, blob);
    return url;
  };
  URL.revokeObjectURL = (url: string) => {
    revoked.push(url);
  };
});
afterEach(() => {
  globals.Worker = savedWorker;
  URL.createObjectURL = savedCreate;
  URL.revokeObjectURL = savedRevoke;
});

describe("createWorkerClock", () => {
  it("runs each timeout in the worker and calls back on the page at exactly its time", async () => {
    const clock = createWorkerClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("a"), 100);
    const b = clock.setTimeout(() => fired.push("b"), 200);
    clock.setTimeout(() => fired.push("c"), 300);
    clock.clearTimeout(b);
    expect(workers).toHaveLength(1);
    await workers[0]!.start();
    fc.tick(99);
    expect(fired).toEqual([]);
    fc.tick(1);
    expect(fired).toEqual(["a"]);
    fc.tick(500);
    expect(fired).toEqual(["a", "c"]);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(1000);
  });

  it("terminate stops the worker, frees the Blob URL, and drops pending timers", async () => {
    const clock = createWorkerClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("late"), 100);
    await workers[0]!.start();
    clock.terminate();
    fc.tick(1000);
    expect(fired).toEqual([]);
    expect(workers[0]!.terminated).toBe(true);
    expect(revoked).toEqual([workers[0]!.url]);
  });
});

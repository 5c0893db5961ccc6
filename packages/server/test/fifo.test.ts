// The one FIFO behind the ack queue, the tombstones and the unacknowledged
// buffer: order, compaction, `at` and `clear`, against a plain array model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fifo } from "../src/core/fifo.js";

describe("Fifo", () => {
  it("gives elements back in push order across compactions", () => {
    const fifo = new Fifo<number>(0);
    for (let i = 1; i <= 100; i++) fifo.push(i);
    const out: number[] = [];
    // 60 shifts pass the half-way compaction point; then more pushes.
    for (let i = 0; i < 60; i++) out.push(fifo.shift()!);
    for (let i = 101; i <= 110; i++) fifo.push(i);
    expect(fifo.size).toBe(50);
    expect(fifo.peek()).toBe(61);
    expect(fifo.at(0)).toBe(61);
    expect(fifo.at(49)).toBe(110);
    expect(fifo.at(50)).toBeUndefined();
    while (fifo.size > 0) out.push(fifo.shift()!);
    expect(out).toEqual(Array.from({ length: 110 }, (_, i) => i + 1));
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.peek()).toBeUndefined();
  });

  it("clear hands back what it held, in order, and empties it", () => {
    const fifo = new Fifo<string>("");
    for (const s of ["a", "b", "c", "d"]) fifo.push(s);
    fifo.shift();
    expect(fifo.clear()).toEqual(["b", "c", "d"]);
    expect(fifo.size).toBe(0);
    fifo.push("e");
    expect(fifo.shift()).toBe("e");
  });

  it("behaves as an array used as a queue, for any sequence of pushes and shifts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(0)), { maxLength: 400 }),
        (ops) => {
          const fifo = new Fifo<number>(-1);
          const model: number[] = [];
          for (const op of ops) {
            if (op === 0) expect(fifo.shift()).toBe(model.shift());
            else {
              fifo.push(op);
              model.push(op);
            }
            expect(fifo.size).toBe(model.length);
            expect(fifo.peek()).toBe(model[0]);
          }
          expect(fifo.clear()).toEqual(model);
        },
      ),
    );
  });
});

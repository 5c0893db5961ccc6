import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ByteBudget, UnackedBuffer, utf8Length } from "../../src/core/resume/index.js";

const text = (seq: number, data: unknown) => JSON.stringify({ type: "message", seq, data });

function fill(buffer: UnackedBuffer<string>, count: number): void {
  for (let i = 0; i < count; i++) {
    const seq = buffer.nextSeq;
    expect(buffer.push(`m${seq}`, text(seq, `m${seq}`))).toBe("ok");
  }
}

function replayed(buffer: UnackedBuffer<string>): number[] {
  const seqs: number[] = [];
  buffer.replay((frame, seq) => {
    expect(JSON.parse(frame)).toMatchObject({ seq });
    seqs.push(seq);
  });
  return seqs;
}

describe("UnackedBuffer", () => {
  it("numbers messages from 1 and keeps them until acked", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 10_000 });
    expect(buffer.nextSeq).toBe(1);
    fill(buffer, 3);
    expect([buffer.size, buffer.lastSeq, buffer.ackedSeq]).toEqual([3, 3, 0]);
    expect(replayed(buffer)).toEqual([1, 2, 3]);
  });

  it("acks cumulatively; repeats and older acks are no-ops; ack 0 is fine", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 10_000 });
    expect(buffer.ack(0)).toBe(true);
    fill(buffer, 5);
    expect(buffer.ack(3)).toBe(true);
    expect(replayed(buffer)).toEqual([4, 5]);
    expect(buffer.ack(3)).toBe(true);
    expect(buffer.ack(1)).toBe(true);
    expect(replayed(buffer)).toEqual([4, 5]);
    expect(buffer.ack(5)).toBe(true);
    expect(buffer.size).toBe(0);
    expect(buffer.bytes).toBe(0);
    expect(buffer.nextSeq).toBe(6);
  });

  it("calls an ack above the highest sent seq bad, and changes nothing", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 10_000 });
    expect(buffer.ack(1)).toBe(false);
    fill(buffer, 2);
    expect(buffer.ack(3)).toBe(false);
    expect(replayed(buffer)).toEqual([1, 2]);
  });

  it("is full at exactly maxMessages: the next push is refused, nothing dropped", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 3, maxBytes: 10_000 });
    fill(buffer, 3);
    expect(buffer.push("m4", text(4, "m4"))).toBe("full");
    expect(buffer.nextSeq).toBe(4);
    expect(replayed(buffer)).toEqual([1, 2, 3]);
    buffer.ack(1);
    expect(buffer.push("m4", text(4, "m4"))).toBe("ok");
  });

  it("is full at exactly maxBytes: a push that fits to the byte is kept, one more byte is not", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 100, maxBytes: 10 });
    expect(buffer.push("a", "x", 6)).toBe("ok");
    expect(buffer.push("b", "x", 5)).toBe("full");
    expect(buffer.push("b", "x", 4)).toBe("ok");
    expect(buffer.bytes).toBe(10);
    expect(buffer.push("c", "x", 1)).toBe("full");
  });

  it("counts UTF-8 bytes of the text by default", () => {
    for (const s of ["", "abc", "é", "€", "😀", "a😀é€", "\ud800", "\udc00x", "\ud800\ud800"]) {
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"));
    }
    const buffer = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 4 });
    expect(buffer.push("x", "😀")).toBe("ok");
    expect(buffer.bytes).toBe(4);
  });

  it("shares a total budget with other buffers", () => {
    const shared: ByteBudget = { used: 0, max: 10 };
    const a = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 100, shared });
    const b = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 100, shared });
    expect(a.push("a", "x", 6)).toBe("ok");
    expect(b.push("b", "x", 5)).toBe("full");
    expect(b.push("b", "x", 4)).toBe("ok");
    expect(shared.used).toBe(10);
    a.ack(1);
    expect(shared.used).toBe(4);
    expect(b.drain()).toEqual([{ seq: 1, data: "b" }]);
    expect(shared.used).toBe(0);
  });

  it("drains what it holds, in order, with the data, and continues the count", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 10_000 });
    fill(buffer, 4);
    buffer.ack(2);
    expect(buffer.drain()).toEqual([
      { seq: 3, data: "m3" },
      { seq: 4, data: "m4" },
    ]);
    expect([buffer.size, buffer.bytes, buffer.nextSeq]).toEqual([0, 0, 5]);
    expect(buffer.drain()).toEqual([]);
  });

  it("does not replay what a replay callback pushes", () => {
    const buffer = new UnackedBuffer<string>({ maxMessages: 10, maxBytes: 10_000 });
    fill(buffer, 2);
    const seen: number[] = [];
    buffer.replay((_text, seq) => {
      seen.push(seq);
      buffer.push("new", "n");
    });
    expect(seen).toEqual([1, 2]);
    expect(buffer.size).toBe(4);
  });

  it("matches a plain model for any sequence of pushes and acks (across compactions)", () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ ack: fc.integer({ min: -5, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const buffer = new UnackedBuffer<string>({ maxMessages: 200, maxBytes: 2000 });
        let model: Array<{ seq: number; bytes: number }> = [];
        let next = 1;
        for (const o of ops) {
          if ("push" in o) {
            const fits =
              model.length < 200 && model.reduce((n, m) => n + m.bytes, 0) + o.push <= 2000;
            expect(buffer.push(`m${next}`, text(next, "m"), o.push)).toBe(fits ? "ok" : "full");
            if (fits) model.push({ seq: next++, bytes: o.push });
          } else {
            // An ack relative to the highest sent seq: below, at, or above it.
            const seq = Math.max(0, next - 1 + o.ack);
            expect(buffer.ack(seq)).toBe(seq <= next - 1);
            if (seq <= next - 1) model = model.filter((m) => m.seq > seq);
          }
          expect(replayed(buffer)).toEqual(model.map((m) => m.seq));
          expect(buffer.bytes).toBe(model.reduce((n, m) => n + m.bytes, 0));
        }
      }),
      { numRuns: 200 },
    );
  });
});

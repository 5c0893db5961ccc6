// The resumable session's rules that both sides apply, written once in the
// protocol package: the seq verdict, the ack cadence and the two frames built
// by hand on the hot path. Checked against the contract's own example.
import { describe, expect, it } from "vitest";
import {
  ACK_EVERY_MESSAGES,
  encodeAckFrame,
  encodeClientMessage,
  encodeMessageFrame,
  encodeServerMessage,
  SeqVerdict,
  seqVerdict,
} from "../src/index.js";

describe("seqVerdict: deliver the next, drop a replay, a gap or no seq is a bad message", () => {
  it("follows the contract's resume example on the client's side", () => {
    // < message seq 1 "a" (delivered), the link dies, then the replay of 1 and 2.
    let delivered = 0;
    const verdicts: SeqVerdict[] = [];
    for (const seq of [1, 1, 2]) {
      const verdict = seqVerdict(seq, delivered);
      verdicts.push(verdict);
      if (verdict === SeqVerdict.Deliver) delivered = seq;
    }
    expect(verdicts).toEqual([SeqVerdict.Deliver, SeqVerdict.Duplicate, SeqVerdict.Deliver]);
    expect(delivered).toBe(2);
  });

  it.each([
    [1, 0, SeqVerdict.Deliver],
    [8, 7, SeqVerdict.Deliver],
    [7, 7, SeqVerdict.Duplicate],
    [1, 7, SeqVerdict.Duplicate],
    [9, 7, SeqVerdict.Gap],
    [2, 0, SeqVerdict.Gap],
    [undefined, 0, SeqVerdict.Gap],
    [undefined, 7, SeqVerdict.Gap],
  ] as const)("seq %s after %s delivered: %s", (seq, delivered, verdict) => {
    expect(seqVerdict(seq, delivered)).toBe(verdict);
  });
});

describe("the ack cadence", () => {
  it("is 32 messages, as the contract says", () => {
    expect(ACK_EVERY_MESSAGES).toBe(32);
  });
});

describe("message and ack frames", () => {
  it("builds the contract's example frames", () => {
    expect(encodeMessageFrame('"a"', 1)).toBe('{"type":"message","seq":1,"data":"a"}');
    expect(encodeMessageFrame('"b"', 2)).toBe('{"type":"message","seq":2,"data":"b"}');
    expect(encodeAckFrame(2)).toBe('{"type":"ack","seq":2}');
    expect(encodeMessageFrame('{"text":"hello"}')).toBe(
      '{"type":"message","data":{"text":"hello"}}',
    );
  });

  it.each([null, 0, "x", { a: [1, { b: "é" }] }, [true, false]])(
    "gives the same text as the generic encoders for %j",
    (data) => {
      const json = JSON.stringify(data);
      expect(encodeMessageFrame(json)).toBe(encodeClientMessage({ type: "message", data }));
      expect(encodeMessageFrame(json, 5)).toBe(
        encodeServerMessage({ type: "message", seq: 5, data }),
      );
      expect(encodeAckFrame(9007199254740991)).toBe(
        encodeClientMessage({ type: "ack", seq: 9007199254740991 }),
      );
    },
  );
});

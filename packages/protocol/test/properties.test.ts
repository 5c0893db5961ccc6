import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ClientMessage,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientMessage,
  encodeServerMessage,
  MAX_SEQ,
  type PlainClientMessage,
  pingSchema,
  ResumeFailure,
  type ServerMessage,
} from "../src/index.js";

const seq = fc.integer({ min: 0, max: MAX_SEQ });
const positive = fc.double({ min: Number.MIN_VALUE, max: 1e12, noNaN: true });
const nonNegative = fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true });
// Any JSON value, normalised through JSON once: JSON cannot carry -0 (it
// reads back as 0), at any depth.
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

const messageSeq = fc.integer({ min: 1, max: MAX_SEQ });
const token = fc.stringMatching(/^[A-Za-z0-9._~-]{1,200}$/);
/** A message, with a seq (resumable sessions) or without (plain v1). */
const appMessage = fc.oneof(
  json.map((data) => ({ type: "message" as const, data })),
  fc.tuple(messageSeq, json).map(([s, data]) => ({ type: "message" as const, seq: s, data })),
);
const ack = seq.map((s) => ({ type: "ack" as const, seq: s }));

const plainClientMessage: fc.Arbitrary<PlainClientMessage> = fc.oneof(
  seq.map((s) => ({ type: "ping" as const, seq: s })),
  appMessage,
);
const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(plainClientMessage, ack);

/** welcome's resume fields, in the combinations the contract allows. */
const resumeFields = fc.oneof(
  fc.constant({}),
  fc.record({ resume: fc.record({ token, windowMs: positive }) }),
  fc.record({
    resume: fc.record({ token, windowMs: positive }),
    resumed: fc.record({ ack: seq }),
  }),
  fc.record({
    resume: fc.record({ token, windowMs: positive }),
    resumeFailed: fc.constantFrom(...Object.values(ResumeFailure)),
  }),
);

const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc
    .tuple(
      fc.record({
        type: fc.constant("welcome" as const),
        protocol: fc.constant(1 as const),
        sessionId: fc.string(),
        heartbeat: fc.record({ intervalMs: positive, timeoutMs: positive }),
      }),
      resumeFields,
    )
    .map(([welcome, resume]) => ({ ...welcome, ...resume })),
  seq.map((s) => ({ type: "pong" as const, seq: s })),
  appMessage,
  ack,
  fc.record({ type: fc.constant("error" as const), code: fc.string(), message: fc.string() }),
  fc.record({
    type: fc.constant("goodbye" as const),
    reconnect: fc.record({ minMs: nonNegative, maxMs: nonNegative }),
  }),
);

// Frames an attacker could send: arbitrary text, JSON of any shape, near-miss
// envelopes, and bytes.
const hostileFrame = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        type: fc.oneof(
          fc.constantFrom("ping", "message", "pong", "welcome", "ack", "__proto__"),
          fc.anything(),
        ),
        seq: fc.anything(),
        data: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((v) => {
      try {
        return JSON.stringify(v) ?? "";
      } catch {
        return "";
      }
    }),
  fc.uint8Array(),
  fc.anything(),
);

describe("decode", () => {
  it("never throws, whatever the input", () => {
    fc.assert(
      fc.property(hostileFrame, (frame) => {
        const client = decodeClientFrame(frame);
        const resumable = decodeClientFrame(frame, { resumable: true });
        const server = decodeServerFrame(frame);
        for (const result of [client, resumable, server]) {
          expect(typeof result.ok).toBe("boolean");
          if (!result.ok) expect(typeof result.error.message).toBe("string");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips every valid client message: decode(encode(m)) = m", () => {
    fc.assert(
      fc.property(clientMessage, (m) => {
        expect(decodeClientFrame(encodeClientMessage(m), { resumable: true })).toEqual({
          ok: true,
          message: m,
        });
      }),
      { numRuns: 1000 },
    );
  });

  it("decodes a plain session's frames the same with or without resumable", () => {
    fc.assert(
      fc.property(plainClientMessage, (m) => {
        const text = encodeClientMessage(m);
        expect(decodeClientFrame(text)).toEqual(decodeClientFrame(text, { resumable: true }));
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips every valid server message: decode(encode(m)) = m", () => {
    fc.assert(
      fc.property(serverMessage, (m) => {
        expect(decodeServerFrame(encodeServerMessage(m))).toEqual({ ok: true, message: m });
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects every ping whose seq is not a safe non-negative integer", () => {
    const badSeq = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double({ noInteger: true }),
      fc.constantFrom(MAX_SEQ + 1, 2 ** 60, Number.MAX_VALUE),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(badSeq, (s) => {
        expect(decodeClientFrame(JSON.stringify({ type: "ping", seq: s })).ok).toBe(false);
        const ackFrame = JSON.stringify({ type: "ack", seq: s });
        expect(decodeClientFrame(ackFrame, { resumable: true }).ok).toBe(false);
        expect(decodeServerFrame(ackFrame).ok).toBe(false);
        // message.seq has the same range, from 1.
        const message = JSON.stringify({ type: "message", seq: s, data: 1 });
        expect(decodeClientFrame(message, { resumable: true }).ok).toBe(false);
        expect(decodeServerFrame(message).ok).toBe(false);
      }),
    );
  });
});

describe("encodeServerMessage's pong fast path", () => {
  it("gives exactly JSON.stringify's text", () => {
    fc.assert(
      fc.property(seq, (s) => {
        expect(encodeServerMessage({ type: "pong", seq: s })).toBe(
          JSON.stringify({ type: "pong", seq: s }),
        );
      }),
    );
  });
});

describe("decodeClientFrame's ping fast path", () => {
  it("agrees with pingSchema on every ping-shaped frame", () => {
    const anySeq = fc.oneof(
      seq,
      fc.integer(),
      fc.double(),
      fc.constantFrom(MAX_SEQ + 1, -0, null, "1", true),
      fc.anything(),
    );
    fc.assert(
      fc.property(anySeq, fc.dictionary(fc.string(), fc.jsonValue()), (s, extra) => {
        const frame = JSON.stringify({ ...extra, type: "ping", seq: s });
        const parsed = pingSchema.safeParse(JSON.parse(frame));
        const decoded = decodeClientFrame(frame);
        expect(decoded.ok).toBe(parsed.success);
        if (decoded.ok && parsed.success) expect(decoded.message).toEqual(parsed.data);
      }),
      { numRuns: 2000 },
    );
  });
});

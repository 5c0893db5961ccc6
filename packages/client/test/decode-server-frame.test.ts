// The client's compact decoder must agree with the protocol's zod schemas
// (decodeServerFrame in @heartline/protocol), the single source of truth.
import { decodeServerFrame as reference } from "@heartline/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeServerFrame } from "../src/decode-server-frame.js";

function agree(frame: unknown): void {
  const ours = decodeServerFrame(frame);
  const theirs = reference(frame);
  if (theirs.ok) {
    expect(ours).toEqual(theirs);
  } else {
    expect(ours.ok).toBe(false);
    if (!ours.ok) {
      expect(ours.error.code).toBe(theirs.error.code);
      expect(ours.error.type).toBe(theirs.error.type);
    }
  }
}

const examples = [
  '{"type":"welcome","protocol":1,"sessionId":"s_8f2c","heartbeat":{"intervalMs":15000,"timeoutMs":30000}}',
  '{"type":"welcome","protocol":2,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":0,"timeoutMs":2}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1e999,"timeoutMs":2}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":[1,2]}',
  '{"type":"welcome","protocol":1,"sessionId":5,"heartbeat":{"intervalMs":1,"timeoutMs":2}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2,"x":1},"y":2}',
  '{"type":"pong","seq":0}',
  '{"type":"pong","seq":9007199254740991}',
  '{"type":"pong","seq":9007199254740992}',
  '{"type":"pong","seq":-1}',
  '{"type":"pong","seq":1.5}',
  '{"type":"pong","seq":"1"}',
  '{"type":"pong"}',
  '{"type":"message","data":{"text":"hello"}}',
  '{"type":"message","data":null}',
  '{"type":"message"}',
  '{"type":"error","code":"invalid_payload","message":"x"}',
  '{"type":"error","code":"invalid_payload"}',
  '{"type":"goodbye","reconnect":{"minMs":1000,"maxMs":10000}}',
  '{"type":"goodbye","reconnect":{"minMs":0,"maxMs":0}}',
  '{"type":"goodbye","reconnect":{"minMs":-1,"maxMs":10}}',
  '{"type":"goodbye","reconnect":null}',
  '{"type":"ping","seq":1}',
  '{"type":"dance"}',
  '{"type":"constructor"}',
  '{"type":"__proto__"}',
  '{"type":"toString"}',
  '{"seq":3}',
  '{"type":7}',
  "[]",
  "null",
  '"welcome"',
  "hello",
  "",
];

describe("the compact server-frame decoder", () => {
  it.each(examples)("agrees with the zod schemas on %s", (frame) => agree(frame));

  it("agrees on binary frames", () => {
    agree(new Uint8Array([123, 125]));
    agree(new ArrayBuffer(2));
    agree(undefined);
  });

  it("agrees on generated frames near the contract's shapes", () => {
    const num = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(0, -0, 1, -1, 1.5, 2 ** 53 - 1, 2 ** 53, 1e308),
    );
    const anyValue = fc.oneof(num, fc.string(), fc.boolean(), fc.constant(null), fc.jsonValue());
    const maybe = <T>(arb: fc.Arbitrary<T>) =>
      fc.option(fc.oneof(arb, anyValue), { nil: undefined });
    const frame = fc.record(
      {
        type: fc.oneof(
          fc.constantFrom("welcome", "pong", "message", "error", "goodbye", "ping"),
          fc.string(),
        ),
        protocol: maybe(fc.constantFrom(1, 2)),
        sessionId: maybe(fc.string()),
        heartbeat: maybe(fc.record({ intervalMs: maybe(num), timeoutMs: maybe(num) })),
        seq: maybe(num),
        data: maybe(anyValue),
        code: maybe(fc.string()),
        message: maybe(fc.string()),
        reconnect: maybe(fc.record({ minMs: maybe(num), maxMs: maybe(num) })),
      },
      { requiredKeys: ["type"] },
    );
    fc.assert(
      fc.property(frame, (value) => {
        agree(JSON.stringify(value));
      }),
      { numRuns: 3000, seed: 4 },
    );
  });
});

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
  // The server's rate terms (issue 21): positive numbers, or absent.
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"rate":{"perSecond":50,"burst":100}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"rate":{"perSecond":0.5,"burst":1,"x":1}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"rate":{"perSecond":0,"burst":100}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"rate":{"perSecond":50}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"rate":{"perSecond":50,"burst":"100"}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"rate":[50,100]}',
  // Resumable sessions: welcome's resume fields (the contract's example first).
  '{"type":"welcome","protocol":1,"sessionId":"s_1","heartbeat":{"intervalMs":15000,"timeoutMs":30000},"resume":{"token":"t.4Jq0","windowMs":120000}}',
  '{"type":"welcome","protocol":1,"sessionId":"s_1","heartbeat":{"intervalMs":15000,"timeoutMs":30000},"resume":{"token":"t.9xLm","windowMs":120000},"resumed":{"ack":2}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumed":{"ack":0}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumeFailed":"expired"}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumeFailed":"overflow"}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumeFailed":"nope"}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumed":{"ack":1},"resumeFailed":"unknown"}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resumed":{"ack":1}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resumeFailed":"unknown"}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"a b","windowMs":1}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"","windowMs":1}}',
  `{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"${"x".repeat(200)}","windowMs":1}}`,
  `{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"${"x".repeat(201)}","windowMs":1}}`,
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":0}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t"}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":null}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1,"x":1},"resumed":{"ack":-1}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumed":{"ack":1.5,"y":2}}',
  '{"type":"welcome","protocol":1,"sessionId":"s","heartbeat":{"intervalMs":1,"timeoutMs":2},"resume":{"token":"t","windowMs":1},"resumed":[]}',
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
  '{"type":"message","seq":1,"data":"a"}',
  '{"type":"message","seq":9007199254740991,"data":null}',
  '{"type":"message","seq":0,"data":"a"}',
  '{"type":"message","seq":-0,"data":"a"}',
  '{"type":"message","seq":1.5,"data":"a"}',
  '{"type":"message","seq":"1","data":"a"}',
  '{"type":"message","seq":null,"data":"a"}',
  '{"type":"message","seq":9007199254740992,"data":"a"}',
  '{"type":"message","seq":1}',
  '{"type":"ack","seq":0}',
  '{"type":"ack","seq":2}',
  '{"type":"ack","seq":-1}',
  '{"type":"ack","seq":1.5}',
  '{"type":"ack","seq":9007199254740992}',
  '{"type":"ack"}',
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
          fc.constantFrom("welcome", "pong", "message", "ack", "error", "goodbye", "ping"),
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
        resume: maybe(
          fc.record({
            token: maybe(fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{0,201}$/), fc.string())),
            windowMs: maybe(num),
          }),
        ),
        resumed: maybe(fc.record({ ack: maybe(num) })),
        resumeFailed: maybe(fc.constantFrom("unknown", "expired", "mismatch", "overflow", "gone")),
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

  it("agrees on generated welcomes with every mix of resume fields", () => {
    const num = fc.oneof(fc.integer({ min: -2, max: 1e6 }), fc.double(), fc.constantFrom(0, 1.5));
    const token = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{0,201}$/), fc.string());
    const maybe = <T>(arb: fc.Arbitrary<T>) =>
      fc.option(fc.oneof({ weight: 4, arbitrary: arb }, fc.jsonValue()), { nil: undefined });
    const welcome = fc.record(
      {
        resume: maybe(fc.record({ token, windowMs: num }, { requiredKeys: [] })),
        resumed: maybe(fc.record({ ack: num }, { requiredKeys: [] })),
        resumeFailed: maybe(fc.constantFrom("unknown", "expired", "mismatch", "overflow", "x")),
      },
      { requiredKeys: [] },
    );
    let valid = 0;
    fc.assert(
      fc.property(welcome, (fields) => {
        const frame = JSON.stringify({
          type: "welcome",
          protocol: 1,
          sessionId: "s",
          heartbeat: { intervalMs: 1, timeoutMs: 2 },
          ...fields,
        });
        agree(frame);
        if (reference(frame).ok) valid++;
      }),
      { numRuns: 2000, seed: 13 },
    );
    // Not a vacuous agreement: both answers occur often.
    expect(valid).toBeGreaterThan(50);
    expect(valid).toBeLessThan(1950);
  });
});

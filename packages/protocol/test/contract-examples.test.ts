// Every example frame in the contract (shared PROTOCOL.md and our own
// packages/protocol/PROTOCOL.md) decodes to what the contract says.
import { describe, expect, it } from "vitest";
import {
  CloseCode,
  DisconnectReason,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientMessage,
  encodeServerMessage,
  SUBPROTOCOL,
} from "../src/index.js";

describe("the example session", () => {
  const session: Array<[">" | "<", string]> = [
    [
      "<",
      '{"type":"welcome","protocol":1,"sessionId":"s_8f2c","heartbeat":{"intervalMs":15000,"timeoutMs":30000}}',
    ],
    [">", '{"type":"ping","seq":0}'],
    ["<", '{"type":"pong","seq":0}'],
    [">", '{"type":"message","data":{"text":"hello"}}'],
    ["<", '{"type":"message","data":{"text":"hello"}}'],
    [">", '{"type":"ping","seq":1}'],
    ["<", '{"type":"pong","seq":1}'],
  ];

  it.each(session)("%s %s decodes and re-encodes to the same text", (direction, frame) => {
    if (direction === ">") {
      const result = decodeClientFrame(frame);
      expect(result).toEqual({ ok: true, message: JSON.parse(frame) });
      if (result.ok) expect(encodeClientMessage(result.message)).toBe(frame);
    } else {
      const result = decodeServerFrame(frame);
      expect(result).toEqual({ ok: true, message: JSON.parse(frame) });
      if (result.ok) expect(encodeServerMessage(result.message)).toBe(frame);
    }
  });

  it("types the welcome's terms", () => {
    const result = decodeServerFrame(session[0]![1]);
    if (!result.ok || result.message.type !== "welcome") throw new Error("expected welcome");
    expect(result.message.heartbeat).toEqual({ intervalMs: 15000, timeoutMs: 30000 });
    expect(result.message.sessionId).toBe("s_8f2c");
  });
});

describe("the shutdown example", () => {
  it("decodes goodbye with its reconnect window", () => {
    expect(
      decodeServerFrame('{"type":"goodbye","reconnect":{"minMs":1000,"maxMs":10000}}'),
    ).toEqual({ ok: true, message: { type: "goodbye", reconnect: { minMs: 1000, maxMs: 10000 } } });
    expect(CloseCode.GoingAway).toBe(1001);
  });
});

describe("bad messages from a client", () => {
  // [frame, decode error code]; every one of them closes with 4400 on the server.
  const bad: Array<[string, string]> = [
    ["hello", "invalid_json"],
    ["[]", "not_object"],
    ['{"seq":3}', "unknown_type"],
    ['{"type":"dance"}', "unknown_type"],
    ['{"type":"ping","seq":-1}', "invalid_message"],
    ['{"type":"ping","seq":1.5}', "invalid_message"],
    ['{"type":"ping"}', "invalid_message"],
    ['{"type":"message"}', "invalid_message"],
  ];

  it.each(bad)("%s is rejected as %s", (frame, code) => {
    const result = decodeClientFrame(frame);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(code);
      expect(result.error.message.length).toBeGreaterThan(0);
    }
  });

  it("names the field that was wrong", () => {
    const result = decodeClientFrame('{"type":"ping","seq":-1}');
    expect(result.ok || result.error).toMatchObject({ type: "ping", message: /seq/ });
  });
});

describe("edges of the contract", () => {
  it("accepts null as message data (null is a value)", () => {
    expect(decodeClientFrame('{"type":"message","data":null}')).toEqual({
      ok: true,
      message: { type: "message", data: null },
    });
  });

  it("accepts seq 0 and 2^53 - 1, rejects 2^53", () => {
    expect(decodeClientFrame('{"type":"ping","seq":0}').ok).toBe(true);
    expect(decodeClientFrame('{"type":"ping","seq":9007199254740991}').ok).toBe(true);
    expect(decodeClientFrame('{"type":"ping","seq":9007199254740992}').ok).toBe(false);
  });

  it("rejects a seq given as a string", () => {
    expect(decodeClientFrame('{"type":"ping","seq":"1"}').ok).toBe(false);
  });

  it("ignores unknown fields (forward compatibility)", () => {
    expect(decodeClientFrame('{"type":"ping","seq":2,"sentAt":123}')).toEqual({
      ok: true,
      message: { type: "ping", seq: 2 },
    });
    const welcome = decodeServerFrame(
      '{"type":"welcome","protocol":1,"sessionId":"a","heartbeat":{"intervalMs":5,"timeoutMs":10,"jitter":1},"region":"eu"}',
    );
    expect(welcome).toEqual({
      ok: true,
      message: {
        type: "welcome",
        protocol: 1,
        sessionId: "a",
        heartbeat: { intervalMs: 5, timeoutMs: 10 },
      },
    });
  });

  it("keeps directions apart: a client may not send pong or welcome", () => {
    expect(decodeClientFrame('{"type":"pong","seq":1}')).toMatchObject({
      ok: false,
      error: { code: "unknown_type", type: "pong" },
    });
    expect(decodeServerFrame('{"type":"ping","seq":1}')).toMatchObject({
      ok: false,
      error: { code: "unknown_type" },
    });
  });

  it("rejects another protocol version in welcome", () => {
    expect(
      decodeServerFrame(
        '{"type":"welcome","protocol":2,"sessionId":"a","heartbeat":{"intervalMs":5,"timeoutMs":10}}',
      ).ok,
    ).toBe(false);
  });

  it("decodes the soft error message", () => {
    expect(
      decodeServerFrame('{"type":"error","code":"invalid_payload","message":"text: required"}'),
    ).toEqual({
      ok: true,
      message: { type: "error", code: "invalid_payload", message: "text: required" },
    });
  });

  it.each([
    ["a Uint8Array", new TextEncoder().encode('{"type":"ping","seq":1}')],
    ["an ArrayBuffer", new ArrayBuffer(4)],
    ["a Node Buffer", Buffer.from("{}")],
  ])("treats %s as a binary frame", (_name, frame) => {
    expect(decodeClientFrame(frame)).toMatchObject({ ok: false, error: { code: "binary_frame" } });
  });

  it("treats prototype keys as unknown types", () => {
    for (const type of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect(decodeClientFrame(JSON.stringify({ type }))).toMatchObject({
        ok: false,
        error: { code: "unknown_type" },
      });
    }
  });
});

describe("named constants", () => {
  it("match the contract's tables", () => {
    expect(SUBPROTOCOL).toBe("heartline.v1");
    expect(CloseCode).toMatchObject({
      Normal: 1000,
      GoingAway: 1001,
      UnsupportedData: 1003,
      InvalidPayload: 1007,
      PolicyViolation: 1008,
      MessageTooBig: 1009,
      HeartbeatTimeout: 4000,
      BadMessage: 4400,
      Unauthorized: 4401,
      Replaced: 4409,
      RateLimited: 4429,
    });
    // The contract's seven reasons, plus `unauthorized`: what a client
    // reports for a 401 or 4401 (the contract's Authentication rule).
    expect(Object.values(DisconnectReason).sort()).toEqual(
      [
        "unauthorized",
        "client_closed",
        "connection_lost",
        "protocol_error",
        "rate_limited",
        "replaced",
        "server_closed",
        "timeout",
      ].sort(),
    );
  });
});

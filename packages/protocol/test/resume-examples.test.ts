// The "Resumable sessions" extension: every example frame in the contract
// (shared PROTOCOL.md and packages/protocol/PROTOCOL.md), the offers, and the
// bad messages the extension adds.
import { describe, expect, it } from "vitest";
import {
  CloseCode,
  closeCodeInfo,
  DisconnectReason,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientMessage,
  encodeServerMessage,
  isResumeToken,
  MAX_RESUME_TOKEN_LENGTH,
  parseSubprotocolOffer,
  RESUME_SUBPROTOCOL,
  RESUME_TOKEN_OFFER_PREFIX,
  ResumeFailure,
  subprotocolOffers,
} from "../src/index.js";

const RESUMABLE = { resumable: true } as const;
const HEARTBEAT = '"heartbeat":{"intervalMs":15000,"timeoutMs":30000}';

function roundTrip(direction: ">" | "<", frame: string): void {
  if (direction === ">") {
    const result = decodeClientFrame(frame, RESUMABLE);
    expect(result).toEqual({ ok: true, message: JSON.parse(frame) });
    if (result.ok) expect(encodeClientMessage(result.message)).toBe(frame);
  } else {
    const result = decodeServerFrame(frame);
    expect(result).toEqual({ ok: true, message: JSON.parse(frame) });
    if (result.ok) expect(encodeServerMessage(result.message)).toBe(frame);
  }
}

describe("the contract's resume example, frame by frame", () => {
  // (upgrade offers: heartline.v1, heartline.resume)
  const first: Array<[">" | "<", string]> = [
    [
      "<",
      `{"type":"welcome","protocol":1,"sessionId":"s_1",${HEARTBEAT},"resume":{"token":"t.4Jq0","windowMs":120000}}`,
    ],
    [">", '{"type":"message","seq":1,"data":"a"}'],
    ["<", '{"type":"message","seq":1,"data":"a"}'],
    [">", '{"type":"message","seq":2,"data":"b"}'],
  ];
  // (upgrade offers: heartline.v1, heartline.resume.t.4Jq0)
  const second: Array<[">" | "<", string]> = [
    [
      "<",
      `{"type":"welcome","protocol":1,"sessionId":"s_1",${HEARTBEAT},"resume":{"token":"t.9xLm","windowMs":120000},"resumed":{"ack":2}}`,
    ],
    ["<", '{"type":"message","seq":1,"data":"a"}'],
    ["<", '{"type":"message","seq":2,"data":"b"}'],
    [">", '{"type":"ack","seq":2}'],
  ];

  it.each(first)("first connection: %s %s decodes and re-encodes to the same text", roundTrip);
  it.each(second)("after the resume: %s %s decodes and re-encodes to the same text", roundTrip);

  it("offers heartline.resume on the first upgrade and the token on the second", () => {
    expect(subprotocolOffers(true)).toEqual(["heartline.v1", "heartline.resume"]);
    expect(parseSubprotocolOffer("heartline.v1, heartline.resume")).toEqual({
      offered: true,
      v1: true,
      acceptable: true,
      resume: true,
      token: undefined,
    });
    const welcome = decodeServerFrame(first[0]![1]);
    if (!welcome.ok || welcome.message.type !== "welcome") throw new Error("expected welcome");
    const token = welcome.message.resume?.token;
    expect(token).toBe("t.4Jq0");
    const offers = subprotocolOffers(true, token);
    expect(offers).toEqual(["heartline.v1", "heartline.resume.t.4Jq0"]);
    expect(parseSubprotocolOffer(offers.join(", "))).toMatchObject({
      v1: true,
      resume: true,
      token: "t.4Jq0",
    });
  });

  it("types the resumed welcome: same session, the server's ack, a fresh token", () => {
    const result = decodeServerFrame(second[0]![1]);
    if (!result.ok || result.message.type !== "welcome") throw new Error("expected welcome");
    expect(result.message.sessionId).toBe("s_1");
    expect(result.message.resumed).toEqual({ ack: 2 });
    expect(result.message.resume).toEqual({ token: "t.9xLm", windowMs: 120000 });
    expect(result.message.resumeFailed).toBeUndefined();
  });
});

describe("welcome after a refused resume", () => {
  it.each(Object.values(ResumeFailure))("carries resumeFailed %s and a new resume token", (why) => {
    roundTrip(
      "<",
      `{"type":"welcome","protocol":1,"sessionId":"s_2",${HEARTBEAT},"resume":{"token":"u.1","windowMs":120000},"resumeFailed":"${why}"}`,
    );
  });

  it("has exactly the four failures of the contract", () => {
    expect(Object.values(ResumeFailure).sort()).toEqual(
      ["expired", "mismatch", "overflow", "unknown"].sort(),
    );
  });
});

describe("acks and message seq", () => {
  it.each([
    [">", '{"type":"ack","seq":0}'],
    [">", '{"type":"ack","seq":9007199254740991}'],
    ["<", '{"type":"ack","seq":0}'],
    ["<", '{"type":"ack","seq":32}'],
    [">", '{"type":"message","seq":9007199254740991,"data":null}'],
    ["<", '{"type":"message","seq":7,"data":{"text":"x"}}'],
  ] as Array<[">" | "<", string]>)("%s %s is valid", roundTrip);

  it("keeps plain v1 frames byte-identical: no seq appears where none was given", () => {
    for (const frame of ['{"type":"message","data":{"text":"hello"}}', '{"type":"ping","seq":3}']) {
      const plain = decodeClientFrame(frame);
      const resumable = decodeClientFrame(frame, RESUMABLE);
      expect(plain.ok && encodeClientMessage(plain.message)).toBe(frame);
      expect(resumable.ok && encodeClientMessage(resumable.message)).toBe(frame);
    }
    const welcome = `{"type":"welcome","protocol":1,"sessionId":"s",${HEARTBEAT}}`;
    const decoded = decodeServerFrame(welcome);
    expect(decoded.ok && Object.keys(decoded.message)).toEqual([
      "type",
      "protocol",
      "sessionId",
      "heartbeat",
    ]);
    expect(decoded.ok && encodeServerMessage(decoded.message)).toBe(welcome);
  });

  it("lets a plain session's message carry seq (the connection decides what it means)", () => {
    expect(decodeClientFrame('{"type":"message","seq":1,"data":1}')).toEqual({
      ok: true,
      message: { type: "message", seq: 1, data: 1 },
    });
  });
});

describe("bad resume frames from a client", () => {
  // [frame, decode error code] on a resumable session; each closes with 4400.
  const bad: Array<[string, string]> = [
    ['{"type":"ack"}', "invalid_message"],
    ['{"type":"ack","seq":-1}', "invalid_message"],
    ['{"type":"ack","seq":1.5}', "invalid_message"],
    ['{"type":"ack","seq":"2"}', "invalid_message"],
    ['{"type":"ack","seq":9007199254740992}', "invalid_message"],
    ['{"type":"message","seq":0,"data":"a"}', "invalid_message"],
    ['{"type":"message","seq":-3,"data":"a"}', "invalid_message"],
    ['{"type":"message","seq":1.5,"data":"a"}', "invalid_message"],
    ['{"type":"message","seq":"1","data":"a"}', "invalid_message"],
    ['{"type":"message","seq":null,"data":"a"}', "invalid_message"],
    ['{"type":"message","seq":9007199254740992,"data":"a"}', "invalid_message"],
    ['{"type":"message","seq":1}', "invalid_message"],
  ];

  it.each(bad)("%s is rejected as %s", (frame, code) => {
    const result = decodeClientFrame(frame, RESUMABLE);
    expect(result.ok || result.error.code).toBe(code);
    if (!result.ok) expect(result.error.message.length).toBeGreaterThan(0);
  });

  it("refuses an ack on a session that is not resumable", () => {
    expect(decodeClientFrame('{"type":"ack","seq":1}')).toMatchObject({
      ok: false,
      error: { code: "unknown_type", type: "ack" },
    });
    expect(decodeClientFrame('{"type":"ack","seq":1}', { resumable: false }).ok).toBe(false);
  });

  it("names the field that was wrong", () => {
    const result = decodeClientFrame('{"type":"message","seq":0,"data":"a"}', RESUMABLE);
    expect(result.ok || result.error).toMatchObject({ type: "message", message: /seq/ });
  });
});

describe("bad resume fields in a welcome", () => {
  const w = (extra: string) =>
    `{"type":"welcome","protocol":1,"sessionId":"s",${HEARTBEAT},${extra}}`;
  const token201 = "a".repeat(MAX_RESUME_TOKEN_LENGTH + 1);
  it.each([
    ['"resume":{"token":"","windowMs":1000}', "empty token"],
    ['"resume":{"token":"a b","windowMs":1000}', "a space in the token"],
    ['"resume":{"token":"a,b","windowMs":1000}', "a comma in the token"],
    ['"resume":{"token":"tök","windowMs":1000}', "a non-ASCII token"],
    [`"resume":{"token":"${token201}","windowMs":1000}`, "a 201-character token"],
    ['"resume":{"token":7,"windowMs":1000}', "a number as token"],
    ['"resume":{"token":"t"}', "no windowMs"],
    ['"resume":{"token":"t","windowMs":0}', "windowMs 0"],
    ['"resume":{"token":"t","windowMs":-1}', "windowMs below 0"],
    ['"resume":"t"', "resume not an object"],
    ['"resumed":{"ack":2}', "resumed without resume"],
    ['"resumeFailed":"expired"', "resumeFailed without resume"],
    [
      '"resume":{"token":"t","windowMs":1},"resumed":{"ack":1},"resumeFailed":"unknown"',
      "resumed and resumeFailed together",
    ],
    ['"resume":{"token":"t","windowMs":1},"resumed":{"ack":-1}', "resumed.ack below 0"],
    ['"resume":{"token":"t","windowMs":1},"resumed":{"ack":1.5}', "resumed.ack not an integer"],
    ['"resume":{"token":"t","windowMs":1},"resumed":{}', "resumed without ack"],
    ['"resume":{"token":"t","windowMs":1},"resumeFailed":"nope"', "an unknown failure"],
  ])("%s is invalid (%s)", (extra) => {
    expect(decodeServerFrame(w(extra))).toMatchObject({
      ok: false,
      error: { code: "invalid_message", type: "welcome" },
    });
  });

  it("accepts a token of exactly 200 characters from the whole charset", () => {
    const token = `AZaz09._~-${"x".repeat(MAX_RESUME_TOKEN_LENGTH - 10)}`;
    expect(token).toHaveLength(200);
    const result = decodeServerFrame(w(`"resume":{"token":"${token}","windowMs":1}`));
    expect(result.ok && result.message.type === "welcome" && result.message.resume?.token).toBe(
      token,
    );
  });

  it("accepts resumed.ack 0 (no client message received yet)", () => {
    expect(decodeServerFrame(w('"resume":{"token":"t","windowMs":1},"resumed":{"ack":0}')).ok).toBe(
      true,
    );
  });
});

describe("the subprotocol offers", () => {
  it("has the contract's names", () => {
    expect(RESUME_SUBPROTOCOL).toBe("heartline.resume");
    expect(RESUME_TOKEN_OFFER_PREFIX).toBe("heartline.resume.");
    expect(subprotocolOffers(false)).toEqual(["heartline.v1"]);
  });

  it("refuses to build an offer from a malformed token", () => {
    expect(() => subprotocolOffers(true, "a b")).toThrow(TypeError);
    expect(() => subprotocolOffers(true, "")).toThrow(TypeError);
    expect(() => subprotocolOffers(true, "x".repeat(201))).toThrow(TypeError);
    expect(subprotocolOffers(true, "x".repeat(200))[1]).toHaveLength(217);
  });

  it.each([
    [undefined, { offered: false, v1: false, acceptable: true, resume: false }],
    ["", { offered: false, v1: false, acceptable: true, resume: false }],
    ["heartline.v1", { offered: true, v1: true, acceptable: true, resume: false }],
    ["chat, superchat", { offered: true, v1: false, acceptable: false, resume: false }],
    // A resume offer without heartline.v1 does not pass the subprotocol check.
    ["heartline.resume", { offered: true, v1: false, acceptable: false, resume: true }],
    [
      "heartline.resume , heartline.v1",
      { offered: true, v1: true, acceptable: true, resume: true },
    ],
    ["Heartline.V1", { offered: true, v1: false, acceptable: false, resume: false }],
    [
      "heartline.v1,\theartline.resumex",
      { offered: true, v1: true, acceptable: true, resume: false },
    ],
  ])("reads %j", (header, expected) => {
    expect(parseSubprotocolOffer(header)).toEqual({ ...expected, token: undefined });
  });

  it("reads the names one by one too (ws's handleProtocols Set)", () => {
    expect(parseSubprotocolOffer(new Set(["heartline.resume.a.b", "heartline.v1"]))).toEqual({
      offered: true,
      v1: true,
      acceptable: true,
      resume: true,
      token: "a.b",
    });
  });

  it("takes the first token offer, and hands a malformed one on for the store to refuse", () => {
    expect(
      parseSubprotocolOffer("heartline.v1, heartline.resume.one, heartline.resume.two").token,
    ).toBe("one");
    const malformed = parseSubprotocolOffer("heartline.v1, heartline.resume.");
    expect(malformed).toMatchObject({ resume: true, token: "" });
    expect(isResumeToken(malformed.token)).toBe(false);
  });

  it.each([
    ["a", true],
    ["A-Z_a.z~0-9", true],
    ["x".repeat(200), true],
    ["x".repeat(201), false],
    ["", false],
    ["a/b", false],
    ["a=", false],
    ["a+b", false],
    ["a\nb", false],
    [7, false],
  ])("isResumeToken(%j) is %s", (value, expected) => {
    expect(isResumeToken(value)).toBe(expected);
  });
});

describe("close code 4409 and 1008", () => {
  it("4409 is replaced, and not worth a reconnect", () => {
    expect(CloseCode.Replaced).toBe(4409);
    expect(DisconnectReason.Replaced).toBe("replaced");
    expect(closeCodeInfo[CloseCode.Replaced]).toMatchObject({ name: "replaced", reconnect: false });
  });

  it("1008 is a policy violation, not worth a reconnect", () => {
    expect(CloseCode.PolicyViolation).toBe(1008);
    expect(closeCodeInfo[CloseCode.PolicyViolation]).toMatchObject({ reconnect: false });
  });
});

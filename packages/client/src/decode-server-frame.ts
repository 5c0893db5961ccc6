import {
  type DecodeResult,
  RESUME_TOKEN_PATTERN,
  ResumeFailure,
  type ServerMessage,
  type WelcomeMessage,
} from "@heartline/protocol";

// Why not `decodeServerFrame` from @heartline/protocol: its zod/mini schemas
// cost about 5.4 KB min+gzip in the browser bundle, which with the client
// itself is over the 8 KB budget (issue 4, item 8). This decoder applies the
// same rules as those schemas, field by field, with the same error codes;
// test/decode-server-frame.test.ts checks it against `decodeServerFrame` on
// every contract example and on thousands of generated frames, so the zod
// schemas stay the single source of truth and any drift fails CI.

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isMs = (value: unknown, min: number, inclusive: boolean): value is number =>
  typeof value === "number" && Number.isFinite(value) && (inclusive ? value >= min : value > min);
/** An integer n with min ≤ n ≤ 2^53 − 1 (zod's `z.int()` range). */
const isSeq = (value: unknown, min: number): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min;
const failures: readonly unknown[] = Object.values(ResumeFailure);

/** Decodes a frame from the server; never throws. Unknown fields are dropped. */
export function decodeServerFrame(frame: unknown): DecodeResult<ServerMessage> {
  if (typeof frame !== "string") return fail("binary_frame", "binary frame");
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return fail("invalid_json", "frame is not valid JSON");
  }
  if (!isObject(value)) return fail("not_object", "frame is not a JSON object");
  const type = value.type;
  if (typeof type !== "string") return fail("unknown_type", "frame has no string type");
  const message = parse(type, value);
  if (message === undefined) return fail("unknown_type", `unknown message type "${type}"`, type);
  if (message === false) return fail("invalid_message", `invalid ${type} message`, type);
  return { ok: true, message };
}

/** The message, `false` when a known type has invalid fields, `undefined` for an unknown type. */
function parse(type: string, v: Json): ServerMessage | false | undefined {
  switch (type) {
    case "welcome": {
      const { heartbeat: h, resume: r, resumed: d, resumeFailed: f, rate: q } = v;
      if (
        v.protocol !== 1 ||
        typeof v.sessionId !== "string" ||
        !isObject(h) ||
        !isMs(h.intervalMs, 0, false) ||
        !isMs(h.timeoutMs, 0, false)
      ) {
        return false;
      }
      const w: WelcomeMessage = {
        type,
        protocol: 1,
        sessionId: v.sessionId,
        heartbeat: { intervalMs: h.intervalMs, timeoutMs: h.timeoutMs },
      };
      // The server's rate terms, optional (a server without a limit leaves them out).
      if (q !== undefined) {
        if (!isObject(q) || !isMs(q.perSecond, 0, false) || !isMs(q.burst, 0, false)) return false;
        w.rate = { perSecond: q.perSecond, burst: q.burst };
      }
      // The resume fields, each optional; resumed and resumeFailed need
      // resume and exclude each other (as welcomeSchema's refinement says).
      if (r !== undefined) {
        if (!isObject(r) || typeof r.token !== "string" || !RESUME_TOKEN_PATTERN.test(r.token)) {
          return false;
        }
        if (!isMs(r.windowMs, 0, false)) return false;
        w.resume = { token: r.token, windowMs: r.windowMs };
      }
      if (d !== undefined) {
        if (!isObject(d) || !isSeq(d.ack, 0)) return false;
        w.resumed = { ack: d.ack };
      }
      if (f !== undefined) {
        if (!failures.includes(f)) return false;
        w.resumeFailed = f as ResumeFailure;
      }
      return (r !== undefined || (d === undefined && f === undefined)) && !(d && f) && w;
    }
    case "pong":
    case "ack":
      return isSeq(v.seq, 0) && { type, seq: v.seq };
    case "message":
      if (v.data === undefined) return false;
      if (v.seq === undefined) return { type, data: v.data };
      return isSeq(v.seq, 1) && { type, seq: v.seq, data: v.data };
    case "error":
      return (
        typeof v.code === "string" &&
        typeof v.message === "string" && { type, code: v.code, message: v.message }
      );
    case "goodbye": {
      const r = v.reconnect;
      return (
        isObject(r) &&
        isMs(r.minMs, 0, true) &&
        isMs(r.maxMs, 0, true) && { type, reconnect: { minMs: r.minMs, maxMs: r.maxMs } }
      );
    }
  }
  return undefined;
}

function fail(
  code: "binary_frame" | "invalid_json" | "not_object" | "unknown_type" | "invalid_message",
  message: string,
  type?: string,
): DecodeResult<never> {
  return { ok: false, error: type === undefined ? { code, message } : { code, message, type } };
}

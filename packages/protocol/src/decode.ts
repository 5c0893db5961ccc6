import type * as z from "zod/mini";
import {
  type ClientMessage,
  clientMessageSchemas,
  messageSchema,
  type PlainClientMessage,
  pingSchema,
  type ServerMessage,
  serverMessageSchemas,
} from "./schemas.js";

/** What was wrong with a frame that did not decode. */
export const DecodeErrorCode = {
  /** A binary frame; the protocol is text only. */
  BinaryFrame: "binary_frame",
  /** Not parseable as JSON. */
  InvalidJson: "invalid_json",
  /** JSON, but not an object (an array, a string, null…). */
  NotObject: "not_object",
  /** An object without a string `type`, or with a `type` this direction does not have. */
  UnknownType: "unknown_type",
  /** A known `type` whose fields are missing or invalid. */
  InvalidMessage: "invalid_message",
} as const;
export type DecodeErrorCode = (typeof DecodeErrorCode)[keyof typeof DecodeErrorCode];

/** Why a frame did not decode: a stable `code`, a message, and its `type` when known. */
export interface DecodeError {
  readonly code: DecodeErrorCode;
  /** A short human-readable explanation, safe to log. */
  readonly message: string;
  /** The frame's `type`, when it had a string one. */
  readonly type?: string;
}

/** A decoded message, or the reason it is not one; `decode*Frame` never throws. */
export type DecodeResult<M> =
  | { readonly ok: true; readonly message: M }
  | { readonly ok: false; readonly error: DecodeError };

type SchemaTable = Record<string, z.ZodMiniType>;

/** What a client may send on a session that is not resumable: no `ack`. */
const plainClientMessageSchemas = { ping: pingSchema, message: messageSchema } as const;

/** How `decodeClientMessage` reads a frame: what the connection's session allows. */
export interface DecodeClientOptions {
  /**
   * The connection's session is resumable, so `ack` is part of its protocol.
   * Default false: an `ack` is then a bad message (`unknown_type`), as the
   * contract says of an `ack` on a session that is not resumable.
   */
  readonly resumable?: boolean | undefined;
}

function fail(code: DecodeErrorCode, message: string, type?: string): DecodeResult<never> {
  return { ok: false, error: type === undefined ? { code, message } : { code, message, type } };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  return `${path}${issue.message}`;
}

function decodeWith<M>(table: SchemaTable, fromClient: boolean, frame: unknown): DecodeResult<M> {
  if (typeof frame !== "string") {
    return fail(DecodeErrorCode.BinaryFrame, "binary frames are not part of the protocol");
  }
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return fail(DecodeErrorCode.InvalidJson, "frame is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(DecodeErrorCode.NotObject, "frame is not a JSON object");
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string")
    return fail(DecodeErrorCode.UnknownType, "frame has no string type");
  if (type === "ping" && fromClient) {
    // Pings are nearly all of a server's traffic. Their one rule (seq is an
    // integer, 0 ≤ seq ≤ 2^53 − 1) is checked here without a schema pass;
    // a ping that fails it goes on to the schema, which names the error.
    // test/properties.test.ts holds this to pingSchema's answers.
    const seq = (value as { seq?: unknown }).seq;
    if (Number.isSafeInteger(seq) && (seq as number) >= 0) {
      return { ok: true, message: { type: "ping", seq: seq as number } as M };
    }
  }
  // Own-property lookup, so "constructor" or "__proto__" are unknown types.
  const schema = Object.hasOwn(table, type) ? table[type] : undefined;
  if (schema === undefined) {
    return fail(DecodeErrorCode.UnknownType, `unknown message type "${type}"`, type);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const why = first ? describeIssue(first) : "invalid message";
    return fail(DecodeErrorCode.InvalidMessage, why, type);
  }
  return { ok: true, message: result.data as M };
}

/**
 * Decodes a frame a server received from a client. Never throws: any input
 * gives either the typed message or a `DecodeError`. `message.data` is not
 * checked against an application schema here (see `validateData`).
 *
 * Whether `ack` is allowed depends on the session (`options.resumable`);
 * whether `message.seq` is required, and the right one, is the connection's
 * to check: it knows the session and its counter.
 */
export function decodeClientFrame(frame: unknown): DecodeResult<PlainClientMessage>;
export function decodeClientFrame(
  frame: unknown,
  options: DecodeClientOptions | undefined,
): DecodeResult<ClientMessage>;
export function decodeClientFrame(
  frame: unknown,
  options?: DecodeClientOptions,
): DecodeResult<ClientMessage> {
  const table = options?.resumable === true ? clientMessageSchemas : plainClientMessageSchemas;
  return decodeWith(table, true, frame);
}

/**
 * Decodes a frame a client received from the server. Never throws. `ack` is
 * always accepted here: what a client does with one on a session that is
 * not resumable is the client's choice (Heartline's ignores it).
 */
export function decodeServerFrame(frame: unknown): DecodeResult<ServerMessage> {
  return decodeWith(serverMessageSchemas, false, frame);
}

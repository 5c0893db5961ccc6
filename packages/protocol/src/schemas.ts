// Written with zod/mini: the browser client imports these, and mini's
// functional checks tree-shake to a fraction of classic zod's size.
import * as z from "zod/mini";
import { PROTOCOL_VERSION, RESUME_TOKEN_PATTERN, ResumeFailure } from "./constants.js";

/** `seq`: an integer, 0 ≤ seq ≤ 2^53 − 1 (z.int() is the safe-integer range). */
const seq = z.int().check(z.minimum(0));
/** `message.seq` on a resumable session: 1 for the first message each way, then +1. */
const messageSeq = z.int().check(z.minimum(1));
const positiveMs = z.number().check(z.positive());
const nonNegativeMs = z.number().check(z.gte(0));
/** Any JSON value, `null` included; only a missing `data` is refused. */
const data = z.custom<unknown>((value) => value !== undefined, { message: "data is required" });

// z.object strips unknown keys: unknown fields are ignored, as the contract
// asks for forward compatibility.
//
// welcome's resume fields are optional: a plain v1 welcome has none. When
// present they must be coherent: `resumed` and `resumeFailed` only on a
// resumable session (one whose welcome carries `resume`, as the contract's
// "the new session is resumable like any other" says), never both at once.
/** `welcome` (server → client): the session id, the heartbeat terms, and the resume fields on a resumable session. */
export const welcomeSchema = z
  .object({
    type: z.literal("welcome"),
    protocol: z.literal(PROTOCOL_VERSION),
    sessionId: z.string(),
    heartbeat: z.object({ intervalMs: positiveMs, timeoutMs: positiveMs }),
    // The server's rate terms, so a client paces itself within them; absent
    // when the server has no limit.
    rate: z.optional(z.object({ perSecond: positiveMs, burst: positiveMs })),
    resume: z.optional(
      z.object({ token: z.string().check(z.regex(RESUME_TOKEN_PATTERN)), windowMs: positiveMs }),
    ),
    resumed: z.optional(z.object({ ack: seq })),
    resumeFailed: z.optional(z.enum(Object.values(ResumeFailure))),
  })
  .check(
    z.refine(
      (w) =>
        (w.resumed === undefined && w.resumeFailed === undefined) ||
        (w.resume !== undefined && (w.resumed === undefined || w.resumeFailed === undefined)),
      { message: "resumed and resumeFailed need resume, and exclude each other" },
    ),
  );
/** `ping` (client → server), answered by a `pong` with the same `seq`. */
export const pingSchema = z.object({ type: z.literal("ping"), seq });
/** `pong` (server → client): the answer to the ping with this `seq`. */
export const pongSchema = z.object({ type: z.literal("pong"), seq });
/** `seq` is optional here: it is required exactly on resumable sessions, which the connection enforces. */
export const messageSchema = z.object({
  type: z.literal("message"),
  seq: z.optional(messageSeq),
  data,
});
/** `ack`, both ways: "I have received every message up to `seq`" (cumulative; 0 = none yet). */
export const ackSchema = z.object({ type: z.literal("ack"), seq });
/** `error` (server → client): a soft refusal; the connection stays. */
export const errorSchema = z.object({
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
});
/** `goodbye` (server → client): shutdown; reconnect within the window. */
export const goodbyeSchema = z.object({
  type: z.literal("goodbye"),
  reconnect: z.object({ minMs: nonNegativeMs, maxMs: nonNegativeMs }),
});

/** The schema of each message a client may send, by `type`. */
export const clientMessageSchemas = {
  ping: pingSchema,
  message: messageSchema,
  ack: ackSchema,
} as const;
/** The schema of each message a server may send, by `type`. */
export const serverMessageSchemas = {
  welcome: welcomeSchema,
  pong: pongSchema,
  message: messageSchema,
  ack: ackSchema,
  error: errorSchema,
  goodbye: goodbyeSchema,
} as const;

/** Any message a client may send (by `type`). */
export const clientMessageSchema = z.discriminatedUnion("type", [
  pingSchema,
  messageSchema,
  ackSchema,
]);
/** Any message a server may send (by `type`). */
export const serverMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  pongSchema,
  messageSchema,
  ackSchema,
  errorSchema,
  goodbyeSchema,
]);

/** A `welcome` message. */
export type WelcomeMessage = z.infer<typeof welcomeSchema>;
/** A `ping` message. */
export type PingMessage = z.infer<typeof pingSchema>;
/** A `pong` message. */
export type PongMessage = z.infer<typeof pongSchema>;
/** An `error` message. */
export type ErrorMessage = z.infer<typeof errorSchema>;
/** A `goodbye` message. */
export type GoodbyeMessage = z.infer<typeof goodbyeSchema>;
/** An `ack` message, either way: every message up to `seq` was received (resumable sessions only). */
export type AckMessage = z.infer<typeof ackSchema>;
/** An application message; `TData` is the application's own type for `data`. */
export interface AppMessage<TData = unknown> {
  type: "message";
  /** On a resumable session: the message's number in its direction (1, 2, …). Absent in plain v1. */
  seq?: number;
  data: TData;
}
/** The server's heartbeat terms: `intervalMs` (ping every) and `timeoutMs` (silence limit). */
export type HeartbeatTerms = WelcomeMessage["heartbeat"];
/** The window after `goodbye` in which a client reconnects: [`minMs`, `maxMs`]. */
export type ReconnectWindow = GoodbyeMessage["reconnect"];
/** `welcome.rate`: the server's per-connection rate limit (frames per second, and the burst it allows). */
export type RateTerms = NonNullable<WelcomeMessage["rate"]>;
/** `welcome.resume`: the token for the next resume and how long the server keeps the session. */
export type ResumeTerms = NonNullable<WelcomeMessage["resume"]>;

/** Everything a client sends on a session that is not resumable (plain v1). */
export type PlainClientMessage<TData = unknown> = PingMessage | AppMessage<TData>;
/** Everything a client sends (`ack` only on a resumable session). */
export type ClientMessage<TData = unknown> = PlainClientMessage<TData> | AckMessage;
/** Everything a server sends. */
export type ServerMessage<TData = unknown> =
  | WelcomeMessage
  | PongMessage
  | AppMessage<TData>
  | AckMessage
  | ErrorMessage
  | GoodbyeMessage;

/** The `type` of a client message. */
export type ClientMessageType = ClientMessage["type"];
/** The `type` of a server message. */
export type ServerMessageType = ServerMessage["type"];

// Written with zod/mini: the browser client imports these, and mini's
// functional checks tree-shake to a fraction of classic zod's size.
import * as z from "zod/mini";
import { PROTOCOL_VERSION } from "./constants.js";

/** `seq`: an integer, 0 ≤ seq ≤ 2^53 − 1 (z.int() is the safe-integer range). */
const seq = z.int().check(z.minimum(0));
const positiveMs = z.number().check(z.positive());
const nonNegativeMs = z.number().check(z.gte(0));
/** Any JSON value, `null` included; only a missing `data` is refused. */
const data = z.custom<unknown>((value) => value !== undefined, { message: "data is required" });

// z.object strips unknown keys: unknown fields are ignored, as the contract
// asks for forward compatibility.
/** `welcome` (server → client): the session id and the heartbeat terms. */
export const welcomeSchema = z.object({
  type: z.literal("welcome"),
  protocol: z.literal(PROTOCOL_VERSION),
  sessionId: z.string(),
  heartbeat: z.object({ intervalMs: positiveMs, timeoutMs: positiveMs }),
});
/** `ping` (client → server), answered by a `pong` with the same `seq`. */
export const pingSchema = z.object({ type: z.literal("ping"), seq });
/** `pong` (server → client): the answer to the ping with this `seq`. */
export const pongSchema = z.object({ type: z.literal("pong"), seq });
/** `message` (either way): the application's `data`. */
export const messageSchema = z.object({ type: z.literal("message"), data });
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
export const clientMessageSchemas = { ping: pingSchema, message: messageSchema } as const;
/** The schema of each message a server may send, by `type`. */
export const serverMessageSchemas = {
  welcome: welcomeSchema,
  pong: pongSchema,
  message: messageSchema,
  error: errorSchema,
  goodbye: goodbyeSchema,
} as const;

/** Any message a client may send (by `type`). */
export const clientMessageSchema = z.discriminatedUnion("type", [pingSchema, messageSchema]);
/** Any message a server may send (by `type`). */
export const serverMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  pongSchema,
  messageSchema,
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
/** An application message; `TData` is the application's own type for `data`. */
export interface AppMessage<TData = unknown> {
  type: "message";
  data: TData;
}
/** The server's heartbeat terms: `intervalMs` (ping every) and `timeoutMs` (silence limit). */
export type HeartbeatTerms = WelcomeMessage["heartbeat"];
/** The window after `goodbye` in which a client reconnects: [`minMs`, `maxMs`]. */
export type ReconnectWindow = GoodbyeMessage["reconnect"];

/** Everything a client sends. */
export type ClientMessage<TData = unknown> = PingMessage | AppMessage<TData>;
/** Everything a server sends. */
export type ServerMessage<TData = unknown> =
  | WelcomeMessage
  | PongMessage
  | AppMessage<TData>
  | ErrorMessage
  | GoodbyeMessage;

/** The `type` of a client message. */
export type ClientMessageType = ClientMessage["type"];
/** The `type` of a server message. */
export type ServerMessageType = ServerMessage["type"];

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
export const welcomeSchema = z.object({
  type: z.literal("welcome"),
  protocol: z.literal(PROTOCOL_VERSION),
  sessionId: z.string(),
  heartbeat: z.object({ intervalMs: positiveMs, timeoutMs: positiveMs }),
});
export const pingSchema = z.object({ type: z.literal("ping"), seq });
export const pongSchema = z.object({ type: z.literal("pong"), seq });
export const messageSchema = z.object({ type: z.literal("message"), data });
export const errorSchema = z.object({
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
});
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

export const clientMessageSchema = z.discriminatedUnion("type", [pingSchema, messageSchema]);
export const serverMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  pongSchema,
  messageSchema,
  errorSchema,
  goodbyeSchema,
]);

export type WelcomeMessage = z.infer<typeof welcomeSchema>;
export type PingMessage = z.infer<typeof pingSchema>;
export type PongMessage = z.infer<typeof pongSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type GoodbyeMessage = z.infer<typeof goodbyeSchema>;
/** An application message; `TData` is the application's own type for `data`. */
export interface AppMessage<TData = unknown> {
  type: "message";
  data: TData;
}
export type HeartbeatTerms = WelcomeMessage["heartbeat"];
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

export type ClientMessageType = ClientMessage["type"];
export type ServerMessageType = ServerMessage["type"];

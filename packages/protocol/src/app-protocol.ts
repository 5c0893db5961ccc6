import type { StandardSchemaV1 } from "./standard-schema.js";

/**
 * The application's half of the contract: a schema for the `data` of the
 * `message`s each side sends. Give the same object to `createServer` and
 * `createClient` and the types flow to both ends, as a tRPC router does.
 */
export interface HeartlineProtocol<TClientData = unknown, TServerData = unknown> {
  /** Validates `data` of messages sent by clients (checked by the server). */
  readonly client?: StandardSchemaV1<unknown, TClientData> | undefined;
  /** Validates `data` of messages sent by the server (checked by the client). */
  readonly server?: StandardSchemaV1<unknown, TServerData> | undefined;
}

/** `data` type clients send under protocol `P`. */
export type ClientDataOf<P> = P extends HeartlineProtocol<infer C, unknown> ? C : unknown;
/** `data` type the server sends under protocol `P`. */
export type ServerDataOf<P> = P extends HeartlineProtocol<unknown, infer S> ? S : unknown;

/**
 * Names the application's schemas for each direction. Any Standard Schema
 * works (zod classic or zod/mini, valibot, arktype…); prefer zod/mini or
 * valibot in code the browser loads.
 *
 * @example
 * const chat = defineProtocol({
 *   client: z.object({ text: z.string() }),
 *   server: z.object({ from: z.string(), text: z.string() }),
 * });
 */
export function defineProtocol<TClientData = unknown, TServerData = unknown>(schemas: {
  client?: StandardSchemaV1<unknown, TClientData>;
  server?: StandardSchemaV1<unknown, TServerData>;
}): HeartlineProtocol<TClientData, TServerData> {
  return Object.freeze({ ...schemas });
}

/** `validateData`'s result: the schema's output, or its issues. */
export type ValidateResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

/**
 * Checks `data` against an application schema, synchronously. With no
 * schema every value passes. Asynchronous schemas are refused: validation
 * sits on the per-message path and must not reorder messages.
 */
export function validateData<T>(
  schema: StandardSchemaV1<unknown, T> | undefined,
  data: unknown,
): ValidateResult<T> {
  if (schema === undefined) return { ok: true, value: data as T };
  let result: StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>;
  try {
    result = schema["~standard"].validate(data);
  } catch (error) {
    return { ok: false, message: `schema threw: ${String(error)}` };
  }
  if (result instanceof Promise) {
    return { ok: false, message: "asynchronous schemas are not supported" };
  }
  if (result.issues !== undefined) {
    const first = result.issues[0];
    if (first === undefined) return { ok: false, message: "invalid data" };
    const path = (first.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
    return { ok: false, message: path ? `data.${path}: ${first.message}` : first.message };
  }
  return { ok: true, value: result.value };
}

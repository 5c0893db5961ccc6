import { CREDENTIALS_CHARS, isCredentials } from "@heartline/protocol";
import { ClientErrorCode, HeartlineClientError } from "./errors.js";
import type { ClientOptions } from "./options.js";

/** A test and what it asks for, in words for the error message. */
type Rule = [test: (value: unknown) => boolean, what: string];

const fn: Rule = [(v) => typeof v === "function", "a function"];
const object: Rule = [(v) => typeof v === "object" && v !== null, "an object"];
const ms: Rule = [(v) => typeof v === "number" && v >= 0 && v < Infinity, "a finite number ≥ 0"];
const count = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

/** Every option by its path, and its rule. An absent option takes its default and is not checked. */
const rules: Record<string, Rule> = {
  protocol: object,
  WebSocket: fn,
  connectTimeoutMs: [(v) => typeof v === "number" && v > 0, "a number > 0 (Infinity: none)"],
  reconnect: [(v) => v === false || object[0](v), "false or an object"],
  "reconnect.backoff": fn,
  "reconnect.shouldRetry": fn,
  "reconnect.baseMs": ms,
  "reconnect.capMs": ms,
  "reconnect.stableAfterMs": ms,
  "reconnect.maxAttempts": [(v) => v === Infinity || count(v), "an integer ≥ 0 or Infinity"],
  outbox: object,
  "outbox.maxUnackedMessages": [count, "an integer ≥ 0"],
  "outbox.maxMessages": [count, "an integer ≥ 0"],
  resume: [(v) => typeof v === "boolean", "a boolean"],
  clock: [
    (v) =>
      object[0](v) &&
      ["now", "setTimeout", "clearTimeout"].every((k) => fn[0]((v as Record<string, unknown>)[k])),
    "a Clock (now, setTimeout, clearTimeout)",
  ],
  random: fn,
  on: object,
};

/**
 * Checks every option at `createClient`, synchronously: a mistake throws
 * there (`invalid_option`, the option named), not later as a failed
 * connection or a negative delay.
 */
export function validateClientOptions<C, S>(options: ClientOptions<C, S>): void {
  const fail = (name: string, what: string): never => {
    throw new HeartlineClientError(ClientErrorCode.InvalidOption, `${name} must be ${what}`);
  };
  if (!object[0](options)) fail("options", object[1]);
  const { url, credentials } = options;
  if (!(fn[0](url) || (typeof url === "string" && url !== ""))) {
    fail("url", "a non-empty string or a function");
  }
  // A function's credentials are checked at each attempt, before `new WebSocket`.
  if (credentials !== undefined && !fn[0](credentials) && !isCredentials(credentials)) {
    fail("credentials", `a function or a string of ${CREDENTIALS_CHARS}`);
  }
  const at = (path: string): unknown =>
    path.split(".").reduce<unknown>((o, key) => (o as Record<string, unknown>)?.[key], options);
  for (const [path, [test, what]] of Object.entries(rules)) {
    const value = at(path);
    if (value !== undefined && !test(value)) fail(path, what);
  }
  for (const [event, listener] of Object.entries(options.on ?? {})) {
    if (listener !== undefined && !fn[0](listener)) fail(`on.${event}`, fn[1]);
  }
}

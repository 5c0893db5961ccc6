// The shape checks of the options that are not numbers in a range (those are
// in options.ts): each throws `invalid_option` at creation with a message
// that names the option, so a plain-JavaScript caller's typo fails there, not
// as a `TypeError` deep inside, or as every upgrade answered 404.
import { HeartlineError, ServerErrorCode } from "./errors.js";

export function invalid(message: string): never {
  throw new HeartlineError(ServerErrorCode.InvalidOption, message);
}

/** A function, or absent. */
export function optionalFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") invalid(`${name} must be a function`);
}

/** An object (not null, not an array), or absent. */
export function optionalObject(name: string, value: unknown): void {
  if (
    value !== undefined &&
    (typeof value !== "object" || value === null || Array.isArray(value))
  ) {
    invalid(`${name} must be an object`);
  }
}

/**
 * The upgrade path: a string that starts with "/" and has no query or
 * fragment (the path check compares the request's path, query dropped, to it).
 */
export function checkPath(path: unknown): string {
  if (typeof path !== "string" || !path.startsWith("/") || /[?#]/.test(path)) {
    invalid(`path must start with "/" and have no query (got ${JSON.stringify(path)})`);
  }
  return path;
}

/** `allowedOrigins`: absent, `"*"`, or an array of origin strings. */
export function checkAllowedOrigins(value: unknown): void {
  if (value === undefined || value === "*") return;
  if (!Array.isArray(value) || value.some((origin) => typeof origin !== "string")) {
    invalid(
      `allowedOrigins must be an array of origins or "*" (got ${JSON.stringify(value)}); write ["https://a.example"] for one origin`,
    );
  }
}

/** The `on` option: listeners by event name, each a function. */
export function checkListeners(on: unknown, events: readonly string[]): void {
  optionalObject("on", on);
  if (on === undefined) return;
  for (const [name, listener] of Object.entries(on as object)) {
    if (!events.includes(name)) {
      invalid(`on.${name} is not a server event (${events.join(", ")})`);
    }
    optionalFunction(`on.${name}`, listener);
  }
}

/** An injected clock: `now`, `setTimeout`, `clearTimeout`. */
export function checkClock(clock: unknown): void {
  if (clock === undefined) return;
  const c = clock as Record<string, unknown> | null;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.now !== "function" ||
    typeof c.setTimeout !== "function" ||
    typeof c.clearTimeout !== "function"
  ) {
    invalid("clock must have now(), setTimeout() and clearTimeout()");
  }
}

/** A Standard Schema (zod, valibot…), or absent: what `defineProtocol` holds. */
function isStandardSchema(value: unknown): boolean {
  const standard = (value as { "~standard"?: { validate?: unknown } } | null)?.["~standard"];
  return typeof standard?.validate === "function";
}

/** `protocol`: `defineProtocol({ client?, server? })`, each a Standard Schema. */
export function checkProtocol(protocol: unknown): void {
  optionalObject("protocol", protocol);
  if (protocol === undefined) return;
  for (const side of ["client", "server"] as const) {
    const schema = (protocol as Record<string, unknown>)[side];
    if (schema !== undefined && !isStandardSchema(schema)) {
      invalid(
        `protocol.${side} must be a Standard Schema (a zod or valibot schema, via defineProtocol)`,
      );
    }
  }
}

/** `meterProvider`: an OpenTelemetry `MeterProvider` (has `getMeter`), or absent. */
export function checkMeterProvider(provider: unknown): void {
  if (provider === undefined) return;
  if (typeof (provider as { getMeter?: unknown } | null)?.getMeter !== "function") {
    invalid("meterProvider must be an OpenTelemetry MeterProvider (with getMeter)");
  }
}

/**
 * The default `sameClient`: true when both are the same value (`Object.is`),
 * or both are plain data (plain objects and arrays, compared key by key,
 * recursively) with equal contents, so `{ userId: 7 }` from one request
 * matches `{ userId: 7 }` from the next. Any other object (a class instance,
 * a Date, a function) matches only itself: when in doubt, refuse; a refused
 * resume is reported (`mismatch`), a wrong one would hand a session over.
 * With no `authenticate` both are undefined, so every resume matches: then
 * the token alone proves the holder.
 */
export function sameClientDefault(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!isPlain(a) || !isPlain(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key)) return false;
    if (
      !sameClientDefault((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    ) {
      return false;
    }
  }
  return true;
}

function isPlain(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

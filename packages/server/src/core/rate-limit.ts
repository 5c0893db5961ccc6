import type { RateLimit } from "./options.js";

/**
 * The one token-bucket policy, for the frame budget (`rateLimit`, cost 1 a
 * frame) and the byte budget (`byteRateLimit`, cost the frame's length):
 * refill `level` for the `elapsedMs` since the last draw (up to `burst`),
 * then take `cost`. Returns the new level; below 0 means refused. Pure and
 * O(1): the caller keeps the level in a field and the time in `lastHeardAt`.
 */
export function drawTokens(
  level: number,
  elapsedMs: number,
  limit: RateLimit,
  cost: number,
): number {
  let tokens = level + (elapsedMs * limit.perSecond) / 1000;
  if (tokens > limit.burst) tokens = limit.burst;
  return tokens - cost;
}

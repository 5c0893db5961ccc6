// The Lua scripts of the Redis session store (createRedisSessionStore). Each
// state change of a session is ONE script: the owner check (fencing) and the
// change run atomically inside Redis, so "who holds this session" is decided
// in one place whatever the number of nodes racing.
//
// A session's scripts touch only its own two keys, which share one hash tag
// ({s:<id>}), so they are legal on Redis Cluster: KEYS[1] = the session hash
// (…:s), KEYS[2] = its unacked message list (…:m). The node registry's
// scripts touch only the registry hash ({nodes}).
//
// `now` always comes from the calling node's injected clock (an ARGV), never
// from Redis TIME: windows run on the node's clock, and fake-clock tests
// drive them exactly.
//
// Session hash fields:
//   sid   the application's session id        auth  authenticate()'s result as JSON ("" = undefined)
//   own   owner key "<nodeId>#<incarnation>"   node  the owner's nodeId
//   conn  the owner's connectionId ("" while waiting)
//   st    "a" attached | "d" waiting | "x" ended (a tombstone: only st, why)
//   why   a tombstone's failure: "expired" | "overflow"
//   until a tombstone's end (clock time): from then on the token answers unknown
//   ep    epoch: +1 on every take and adoption (the fence for the old holder)
//   h     sha256(current secret), hex      hp   sha256(previous secret) until proven, or ""
//   rs    highest client seq recorded received
//   as    highest server seq acknowledged; the list holds as+1 … ls, in order
//   ls    highest server seq recorded
//   da    clock time the session started waiting (st = "d")
//
// Return codes shared by the fenced scripts: -1 = not the owner (taken over
// or adopted elsewhere: fenced), -2 = no such session (ended, expired, or a
// Redis that restarted empty).

/** Shared by the fenced scripts: the owner/epoch check. */
const fence = `
local function fenced(own, ep)
  local v = redis.call("HMGET", KEYS[1], "own", "ep", "st")
  if not v[3] or v[3] == "x" then return -2 end
  if v[1] ~= own or v[2] ~= ep then return -1 end
  return 0
end
`;

/**
 * A new session. ARGV: sid, auth, own, node, conn, hash, ttlMs. Returns 1, or
 * 0 when the id is taken (the caller draws another; 72 random bits make it rare).
 */
export const createScript = `
if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
redis.call("HSET", KEYS[1], "sid", ARGV[1], "auth", ARGV[2], "own", ARGV[3], "node", ARGV[4],
  "conn", ARGV[5], "st", "a", "ep", "1", "h", ARGV[6], "hp", "", "rs", "0", "as", "0", "ls", "0", "da", "0")
redis.call("PEXPIRE", KEYS[1], ARGV[7])
redis.call("DEL", KEYS[2])
return 1
`;

/**
 * A resume, after the caller read the session and checked the secret, the
 * window and the client in JS: a compare-and-set on the epoch it read, so a
 * session that changed in between is not handed over. ARGV: epoch read,
 * presented hash, own, node, conn, new hash, ttlMs, maxMessages.
 * Returns {"raced"} or {"ok", newEpoch, oldNode, oldConn, oldSt, da, rs, as, ls, {texts}}.
 * The list read is bounded by maxMessages (it never holds more).
 */
export const takeScript = `
local v = redis.call("HMGET", KEYS[1], "ep", "h", "hp", "st", "node", "conn", "da", "rs", "as", "ls")
if not v[1] or v[4] == "x" or v[1] ~= ARGV[1] then return {"raced"} end
if ARGV[2] ~= v[2] and (v[3] == "" or ARGV[2] ~= v[3]) then return {"raced"} end
local ep = tostring(tonumber(v[1]) + 1)
redis.call("HSET", KEYS[1], "own", ARGV[3], "node", ARGV[4], "conn", ARGV[5], "st", "a", "ep", ep,
  "h", ARGV[6], "hp", ARGV[2])
redis.call("PEXPIRE", KEYS[1], ARGV[7])
redis.call("PEXPIRE", KEYS[2], ARGV[7])
local texts = redis.call("LRANGE", KEYS[2], 0, tonumber(ARGV[8]) - 1)
return {"ok", ep, v[5], v[6], v[4], v[7], v[8], v[9], v[10], texts}
`;

/**
 * The journal: what an attached or waiting session hosted by this node did
 * since the last flush. ARGV: own, epoch, rs, as, firstSeq, proven (0/1),
 * ttlMs, then the frame texts of seqs firstSeq, firstSeq+1, … Idempotent (a
 * retried flush appends only seqs above ls). Returns the recorded ls, or -1/-2.
 */
export const journalScript = `${fence}
local f = fenced(ARGV[1], ARGV[2])
if f ~= 0 then return f end
local v = redis.call("HMGET", KEYS[1], "rs", "as", "ls")
local rs, as, ls = tonumber(v[1]), tonumber(v[2]), tonumber(v[3])
local first = tonumber(ARGV[5])
for i = 8, #ARGV do
  local seq = first + i - 8
  if seq == ls + 1 then
    redis.call("RPUSH", KEYS[2], ARGV[i])
    ls = seq
  end
end
local acked = tonumber(ARGV[4])
if acked > as then
  local drop = math.min(acked, ls) - as
  if drop > 0 then redis.call("LTRIM", KEYS[2], drop, -1) end
  as = as + math.max(drop, 0)
end
local newRs = math.max(rs, tonumber(ARGV[3]))
redis.call("HSET", KEYS[1], "rs", newRs, "as", as, "ls", ls)
if ARGV[6] == "1" then redis.call("HSET", KEYS[1], "hp", "") end
redis.call("PEXPIRE", KEYS[1], ARGV[7])
if ls > as then redis.call("PEXPIRE", KEYS[2], ARGV[7]) end
return ls
`;

/**
 * The connection ended and the session waits (its window starts), or an
 * abandoned resume waits again. ARGV: own, epoch, conn, now, ttlMs. Only
 * while that connection holds it. Returns 1, 0 (another connection holds
 * it), -1, -2.
 */
export const detachScript = `${fence}
local f = fenced(ARGV[1], ARGV[2])
if f ~= 0 then return f end
local v = redis.call("HMGET", KEYS[1], "st", "conn")
if v[1] ~= "a" or v[2] ~= ARGV[3] then return 0 end
redis.call("HSET", KEYS[1], "st", "d", "conn", "", "da", ARGV[4])
redis.call("PEXPIRE", KEYS[1], ARGV[5])
if redis.call("EXISTS", KEYS[2]) == 1 then redis.call("PEXPIRE", KEYS[2], ARGV[5]) end
return 1
`;

/**
 * The session ends (once, cluster-wide: whoever runs this first). ARGV: own,
 * epoch, conn ("" = any state), tombstone ("expired", "overflow" or "" for
 * none), tombstoneTtlMs, now, windowMs, maxMessages. With tombstone
 * "expired" the window must have passed (st "d" and now ≥ da + window).
 * Returns {1, {texts}} (the recorded unacked messages, bounded), or {0}
 * (conn no longer holds it / window not passed), {-1}, {-2}.
 */
export const endScript = `${fence}
local f = fenced(ARGV[1], ARGV[2])
if f ~= 0 then return {f} end
local v = redis.call("HMGET", KEYS[1], "st", "conn", "da")
if ARGV[3] ~= "" and (v[1] ~= "a" or v[2] ~= ARGV[3]) then return {0} end
if ARGV[4] == "expired" and (v[1] ~= "d" or tonumber(ARGV[6]) < tonumber(v[3]) + tonumber(ARGV[7])) then
  return {0}
end
local texts = redis.call("LRANGE", KEYS[2], 0, tonumber(ARGV[8]) - 1)
redis.call("DEL", KEYS[1], KEYS[2])
if ARGV[4] ~= "" then
  redis.call("HSET", KEYS[1], "st", "x", "why", ARGV[4], "until", tonumber(ARGV[6]) + tonumber(ARGV[5]))
  redis.call("PEXPIRE", KEYS[1], ARGV[5])
end
return {1, texts}
`;

/**
 * A created session whose upgrade was abandoned before its welcome: dropped
 * unreported. ARGV: own, epoch. Returns 1, -1, -2.
 */
export const dropScript = `${fence}
local f = fenced(ARGV[1], ARGV[2])
if f ~= 0 then return f end
redis.call("DEL", KEYS[1], KEYS[2])
return 1
`;

/**
 * A survivor adopts a session of a dead owner: only while that dead owner
 * (`own`, with its incarnation) still holds it, so of several survivors
 * racing exactly one wins. The session waits on the adopter from now (its
 * window starts at adoption). ARGV: deadOwn, newOwn, newNode, now, ttlMs,
 * maxMessages. Returns {0} or {1, ep, sid, auth, oldNode, rs, as, ls, {texts}}.
 */
export const adoptScript = `
local v = redis.call("HMGET", KEYS[1], "own", "st", "ep", "sid", "auth", "node", "rs", "as", "ls")
if v[1] ~= ARGV[1] or not v[2] or v[2] == "x" then return {0} end
local ep = tostring(tonumber(v[3]) + 1)
redis.call("HSET", KEYS[1], "own", ARGV[2], "node", ARGV[3], "conn", "", "st", "d", "ep", ep, "da", ARGV[4])
redis.call("PEXPIRE", KEYS[1], ARGV[5])
if redis.call("EXISTS", KEYS[2]) == 1 then redis.call("PEXPIRE", KEYS[2], ARGV[5]) end
local texts = redis.call("LRANGE", KEYS[2], 0, tonumber(ARGV[6]) - 1)
return {1, ep, v[4], v[5], v[6], v[7], v[8], v[9], texts}
`;

/**
 * The node heartbeat, on the registry hash (field = owner key, value = the
 * clock time its lease ends). ARGV: own, now, ttlMs, mode ("start" | "tick"),
 * the registry's own TTL.
 * "tick" returns {-1} when this owner's lease had already lapsed (or was
 * forgotten): it was presumed dead and its sessions are being adopted, so it
 * must not renew (the caller starts a new incarnation). Else {1, dead owner
 * keys…}: every other owner whose lease has lapsed (adopt their sessions).
 */
export const nodeTickScript = `
local own, now = ARGV[1], tonumber(ARGV[2])
if ARGV[4] == "tick" then
  local mine = redis.call("HGET", KEYS[1], own)
  if not mine or tonumber(mine) <= now then return {-1} end
end
redis.call("HSET", KEYS[1], own, now + tonumber(ARGV[3]))
-- Every key has a TTL: the registry outlives the last node by a window and two leases.
redis.call("PEXPIRE", KEYS[1], ARGV[5])
local out = {1}
local all = redis.call("HGETALL", KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= own and tonumber(all[i + 1]) <= now then out[#out + 1] = all[i] end
end
return out
`;

/**
 * A node leaves on purpose (shutdown): its lease ends now, so the next
 * survivor heartbeat adopts its sessions at once. ARGV: own.
 */
export const nodeLeaveScript = `
if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 1 then redis.call("HSET", KEYS[1], ARGV[1], 0) end
return 1
`;

/**
 * A dead owner's sessions are all adopted (its index is empty): forget it,
 * unless it renewed meanwhile. ARGV: deadOwn, now.
 */
export const nodeForgetScript = `
local v = redis.call("HGET", KEYS[1], ARGV[1])
if v and tonumber(v) <= tonumber(ARGV[2]) then redis.call("HDEL", KEYS[1], ARGV[1]) return 1 end
return 0
`;

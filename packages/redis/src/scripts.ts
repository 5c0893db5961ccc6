// The Lua scripts that change presence. Each runs atomically inside Redis, so
// "who reports a lost node" and "was this session still recorded" are decided
// in one place, once, whatever the number of nodes racing.
//
// Every script gets KEYS[1] = the node set (so a cluster client routes it by
// slot) and ARGV[1] = the key prefix; the other keys are built from the prefix.
// All of them share the prefix's hash tag, so they live in one slot: that is
// what makes these multi-key scripts legal on Redis Cluster.
//
// Keys (p = prefix):
//   p.."nodes"          set    live node ids
//   p.."hb:"..node      string the node's heartbeat, with a PX time-to-live
//   p.."conns:"..node   hash   sessionId -> record JSON
//   p.."ident:"..ident  hash   node.."\n"..sessionId -> record JSON
//   p.."events"         pub/sub channel, messages {"v":1,"events":[...]}

/** Shared helpers, prepended to the scripts that need them. */
const lib = `
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function publish(p, events)
  -- Chunks bound the size of one message when a large node is reaped.
  local chunk = {}
  for i = 1, #events do
    chunk[#chunk + 1] = events[i]
    if #chunk == 500 or i == #events then
      redis.call("PUBLISH", p .. "events", '{"v":1,"events":[' .. table.concat(chunk, ",") .. ']}')
      chunk = {}
    end
  end
end

-- Removes a stored record from its identity's hash and appends its
-- disconnect event (an unreadable record is dropped without an event).
local function forget(p, node, sid, rec, reason, at, events)
  local ok, r = pcall(cjson.decode, rec)
  if ok and type(r) == "table" then
    redis.call("HDEL", p .. "ident:" .. tostring(r.identity), node .. "\\n" .. sid)
    r.type = "disconnect"
    r.reason = reason
    r.at = at
    events[#events + 1] = cjson.encode(r)
  end
end

-- Removes every connection of a node and the node itself; reports each
-- connection as disconnected with the given reason. Returns the count.
local function drop_node(p, nodes_key, node, reason)
  local conns_key = p .. "conns:" .. node
  local flat = redis.call("HGETALL", conns_key)
  local at = now_ms()
  local events = {}
  for i = 1, #flat, 2 do
    forget(p, node, flat[i], flat[i + 1], reason, at, events)
  end
  redis.call("DEL", conns_key, p .. "hb:" .. node)
  redis.call("SREM", nodes_key, node)
  publish(p, events)
  return #events
end
`;

/**
 * Record one connection. ARGV: prefix, nodeId, sessionId, identity, record JSON,
 * event JSON. Returns 1 when recorded (and published), 0 when it already was
 * (a resent command), -1 when the node is not registered (it was reaped: the
 * caller resyncs, which records it).
 */
export const connectScript = `
local p, node, sid, ident = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call("SISMEMBER", KEYS[1], node) == 0 then return -1 end
local added = redis.call("HSET", p .. "conns:" .. node, sid, ARGV[5])
redis.call("HSET", p .. "ident:" .. ident, node .. "\\n" .. sid, ARGV[5])
if added == 1 then
  redis.call("PUBLISH", p .. "events", '{"v":1,"events":[' .. ARGV[6] .. ']}')
end
return added
`;

/**
 * Remove one connection. ARGV: prefix, nodeId, sessionId, event JSON. Publishes
 * only when the session was still recorded, so a session already reported as
 * `node_lost` (or removed by a resync) is never reported twice.
 * Returns 1, 0 (not recorded) or -1 (node not registered).
 */
export const disconnectScript = `
local p, node, sid = ARGV[1], ARGV[2], ARGV[3]
if redis.call("SISMEMBER", KEYS[1], node) == 0 then return -1 end
local conns_key = p .. "conns:" .. node
local rec = redis.call("HGET", conns_key, sid)
if not rec then return 0 end
redis.call("HDEL", conns_key, sid)
local ok, r = pcall(cjson.decode, rec)
if ok and type(r) == "table" then
  redis.call("HDEL", p .. "ident:" .. tostring(r.identity), node .. "\\n" .. sid)
end
redis.call("PUBLISH", p .. "events", '{"v":1,"events":[' .. ARGV[4] .. ']}')
return 1
`;

/**
 * The node heartbeat, once per period: refresh the node's own key, then reap
 * every other node whose key has lapsed. ARGV: prefix, nodeId, ttlMs, lostReason.
 * Returns {-1} when this node is no longer registered (it was reaped while
 * alive: the caller resyncs), else {1, node, count, node, count, ...} for the
 * nodes this call reaped. Atomic: a lapsed node is reaped by exactly one call.
 */
export const tickScript = `${lib}
local p, node, ttl, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call("SISMEMBER", KEYS[1], node) == 0 then return {-1} end
redis.call("SET", p .. "hb:" .. node, "1", "PX", ttl)
local out = {1}
local members = redis.call("SMEMBERS", KEYS[1])
for i = 1, #members do
  local m = members[i]
  if m ~= node and redis.call("EXISTS", p .. "hb:" .. m) == 0 then
    local n = drop_node(p, KEYS[1], m, reason)
    out[#out + 1] = m
    out[#out + 1] = n
  end
end
return out
`;

/**
 * Make Redis hold exactly this node's connections: register the node, refresh
 * its heartbeat, and diff the stored set against the node's own.
 * ARGV: prefix, nodeId, ttlMs, removedReason, then (sessionId, identity,
 * record JSON) per local connection. Publishes a `disconnect` (reason
 * removedReason) for each stored session the node no longer has, and a
 * `connect` with resync=true for each local one Redis lacked.
 * Returns {added, removed}.
 */
export const resyncScript = `${lib}
local p, node, ttl, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call("SADD", KEYS[1], node)
redis.call("SET", p .. "hb:" .. node, "1", "PX", ttl)
local conns_key = p .. "conns:" .. node
local want = {}
for i = 5, #ARGV, 3 do want[ARGV[i]] = i end
local flat = redis.call("HGETALL", conns_key)
local have = {}
local at = now_ms()
local events = {}
local removed = 0
for i = 1, #flat, 2 do
  local sid, rec = flat[i], flat[i + 1]
  have[sid] = true
  if not want[sid] then
    redis.call("HDEL", conns_key, sid)
    removed = removed + 1
    forget(p, node, sid, rec, reason, at, events)
  end
end
local added = 0
for i = 5, #ARGV, 3 do
  local sid, ident, rec = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not have[sid] then
    redis.call("HSET", conns_key, sid, rec)
    redis.call("HSET", p .. "ident:" .. ident, node .. "\\n" .. sid, rec)
    added = added + 1
    local r = cjson.decode(rec)
    r.type = "connect"
    r.at = r.connectedAt
    r.resync = true
    events[#events + 1] = cjson.encode(r)
  end
end
publish(p, events)
return {added, removed}
`;

/**
 * A node leaving on purpose: drop whatever it still holds with the given
 * reason, and unregister it. ARGV: prefix, nodeId, reason. Returns the count.
 */
export const leaveScript = `${lib}
return drop_node(ARGV[1], KEYS[1], ARGV[2], ARGV[3])
`;

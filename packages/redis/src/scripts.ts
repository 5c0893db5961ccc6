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
//   p.."sess"           hash   sessionId -> record JSON, resumable sessions only,
//                              wherever they are (a node's hash, or orphaned)
//   p.."orphans"        zset   sessionId -> deadline (ms, nodes' clock): resumable
//                              sessions no node holds (their node was lost or left)
//   p.."owin"           hash   node -> its orphanWindowMs (0: its sessions die with it)
//   p.."ended:"..sid    string a session that ended, PX a while: a late claim cannot revive it
//
// A resumable session's record is in p.."sess" and in its identity's hash
// from its first connection to its end, and in one node's hash while a
// node holds it (attached or waiting there); offline means it left p.."sess".

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

-- A copy of a record as an event of the given type.
local function event_of(r, kind, at)
  local e = {}
  for k, v in pairs(r) do e[k] = v end
  e.type = kind
  e.at = at
  return e
end

-- Removes a resumable session's record from wherever it is (its node's
-- hash or the orphans, its identity's hash, the session index). Returns the
-- decoded record, or nil when the session has none.
local function take_session(p, sid)
  local rec = redis.call("HGET", p .. "sess", sid)
  redis.call("ZREM", p .. "orphans", sid)
  if not rec then return nil end
  redis.call("HDEL", p .. "sess", sid)
  local ok, r = pcall(cjson.decode, rec)
  if not ok or type(r) ~= "table" then return nil end
  redis.call("HDEL", p .. "conns:" .. tostring(r.nodeId), sid)
  redis.call("HDEL", p .. "ident:" .. tostring(r.identity), tostring(r.nodeId) .. "\\n" .. sid)
  return r
end

-- Records a resumable session on node r.nodeId.
local function put_session(p, sid, r)
  local rec = cjson.encode(r)
  redis.call("HSET", p .. "conns:" .. r.nodeId, sid, rec)
  redis.call("HSET", p .. "ident:" .. r.identity, r.nodeId .. "\\n" .. sid, rec)
  redis.call("HSET", p .. "sess", sid, rec)
end

local function is_session(rec)
  local ok, r = pcall(cjson.decode, rec)
  return ok and type(r) == "table" and r.resumable == true
end

-- The orphan window a node registered (0: its sessions die with it).
local function window_of(p, node)
  return tonumber(redis.call("HGET", p .. "owin", node) or "0") or 0
end

-- Removes every connection of a node and the node itself; reports each
-- connection as disconnected with the given reason, except its resumable
-- sessions when the node registered an orphan window: those stay online
-- as orphans until a node adopts or claims them or the window passes.
-- Returns {reported, orphaned}.
local function drop_node(p, nodes_key, node, reason, now)
  local conns_key = p .. "conns:" .. node
  local win = window_of(p, node)
  local flat = redis.call("HGETALL", conns_key)
  local at = now_ms()
  local events = {}
  local kept = 0
  for i = 1, #flat, 2 do
    local sid, rec = flat[i], flat[i + 1]
    if win > 0 and is_session(rec) and redis.call("HEXISTS", p .. "sess", sid) == 1 then
      redis.call("ZADD", p .. "orphans", now + win, sid)
      kept = kept + 1
    else
      forget(p, node, sid, rec, reason, at, events)
      redis.call("HDEL", p .. "sess", sid)
    end
  end
  redis.call("DEL", conns_key, p .. "hb:" .. node)
  redis.call("SREM", nodes_key, node)
  redis.call("HDEL", p .. "owin", node)
  publish(p, events)
  return {#events, kept}
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
 * The node heartbeat, once per period: refresh the node's own key, reap
 * every other node whose key has lapsed, and report the orphaned sessions
 * whose deadline has come. ARGV: prefix, nodeId, ttlMs, lostReason, now (the
 * node's clock). Returns {-1} when this node is no longer registered (it was
 * reaped while alive: the caller resyncs), else {1, expired, node, reported,
 * orphaned, node, reported, orphaned, ...}: the orphans reported `lostReason`
 * by this call, then the nodes it reaped. Atomic: a lapsed node is reaped,
 * and an orphan reported, by exactly one call.
 */
export const tickScript = `${lib}
local p, node, ttl, reason, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call("SISMEMBER", KEYS[1], node) == 0 then return {-1} end
redis.call("SET", p .. "hb:" .. node, "1", "PX", ttl)
local out = {1, 0}
local members = redis.call("SMEMBERS", KEYS[1])
for i = 1, #members do
  local m = members[i]
  if m ~= node and redis.call("EXISTS", p .. "hb:" .. m) == 0 then
    local n = drop_node(p, KEYS[1], m, reason, now)
    out[#out + 1] = m
    out[#out + 1] = n[1]
    out[#out + 1] = n[2]
  end
end
-- Orphans no node adopted or claimed within their window: gone with their node.
local due = redis.call("ZRANGEBYSCORE", p .. "orphans", "-inf", now, "LIMIT", 0, 500)
local at = now_ms()
local events = {}
for i = 1, #due do
  local r = take_session(p, due[i])
  if r then
    local e = event_of(r, "disconnect", at)
    e.reason = reason
    events[#events + 1] = cjson.encode(e)
  end
end
publish(p, events)
out[2] = #events
return out
`;

/**
 * Make Redis hold exactly this node's connections: register the node (and
 * its orphan window), refresh its heartbeat, and diff the stored set
 * against the node's own. ARGV: prefix, nodeId, ttlMs, removedReason, now,
 * orphanWindowMs, then (sessionId, identity, record JSON) per local
 * connection. Publishes a `disconnect` (reason removedReason) for each
 * stored connection the node no longer has (a resumable session is
 * orphaned instead when the window is above 0: it may have moved), and a
 * `connect` with resync=true for each local one Redis lacked. A local
 * resumable session that Redis holds on another node is left there (that
 * node has it now), one orphaned from this node is taken back silently (it
 * never went offline), one that ended is not revived.
 * Returns {added, removed}.
 */
export const resyncScript = `${lib}
local p, node, ttl, reason, now, win = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call("SADD", KEYS[1], node)
redis.call("SET", p .. "hb:" .. node, "1", "PX", ttl)
redis.call("HSET", p .. "owin", node, win)
local conns_key = p .. "conns:" .. node
local want = {}
for i = 7, #ARGV, 3 do want[ARGV[i]] = i end
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
    if win > 0 and is_session(rec) and redis.call("HEXISTS", p .. "sess", sid) == 1 then
      redis.call("ZADD", p .. "orphans", now + win, sid)
    else
      forget(p, node, sid, rec, reason, at, events)
      redis.call("HDEL", p .. "sess", sid)
    end
  end
end
local added = 0
for i = 7, #ARGV, 3 do
  local sid, ident, rec = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not have[sid] then
    local r = cjson.decode(rec)
    if r.resumable == true then
      local cur = redis.call("HGET", p .. "sess", sid)
      if cur then
        local c = cjson.decode(cur)
        if c.nodeId == node then
          take_session(p, sid)
          put_session(p, sid, c)
          added = added + 1
        end
      elseif redis.call("EXISTS", p .. "ended:" .. sid) == 0 then
        put_session(p, sid, r)
        added = added + 1
        local e = event_of(r, "connect", r.connectedAt)
        e.resync = true
        events[#events + 1] = cjson.encode(e)
      end
    else
      redis.call("HSET", conns_key, sid, rec)
      redis.call("HSET", p .. "ident:" .. ident, node .. "\\n" .. sid, rec)
      added = added + 1
      r.type = "connect"
      r.at = r.connectedAt
      r.resync = true
      events[#events + 1] = cjson.encode(r)
    end
  end
end
publish(p, events)
return {added, removed}
`;

/**
 * A node leaving on purpose: drop whatever it still holds with the given
 * reason (its resumable sessions are orphaned instead when it registered an
 * orphan window: a survivor adopts them), and unregister it.
 * ARGV: prefix, nodeId, reason, now. Returns {reported, orphaned}.
 */
export const leaveScript = `${lib}
return drop_node(ARGV[1], KEYS[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
`;

/**
 * A connection carrying a resumable session: record the session on this
 * node, wherever it was. ARGV: prefix, nodeId, sessionId, record JSON.
 * Returns 1 (new: `connect` published), 2 (it was on another node or
 * orphaned from one: moved here, `moved` published, never offline in
 * between), 0 (already here: nothing), 3 (stale, nothing: the session
 * ended, or the record is of a connection accepted after this one), or -1
 * (this node is not registered: the caller resyncs).
 */
export const sessionConnectScript = `${lib}
local p, node, sid = ARGV[1], ARGV[2], ARGV[3]
if redis.call("SISMEMBER", KEYS[1], node) == 0 then return -1 end
local r = cjson.decode(ARGV[4])
local cur = redis.call("HGET", p .. "sess", sid)
if not cur then
  if redis.call("EXISTS", p .. "ended:" .. sid) == 1 then return 3 end
  put_session(p, sid, r)
  publish(p, {cjson.encode(event_of(r, "connect", r.connectedAt))})
  return 1
end
local c = cjson.decode(cur)
if c.nodeId == node then
  -- Here already; taken back if it had been orphaned (this node gave it up in a resync).
  if redis.call("ZSCORE", p .. "orphans", sid) then
    take_session(p, sid)
    put_session(p, sid, c)
  end
  return 0
end
-- A claim older than the record's connection arrives late (it was queued): the newer one stands.
if tonumber(c.connectedAt) > tonumber(r.connectedAt) then return 3 end
take_session(p, sid)
put_session(p, sid, r)
local e = event_of(r, "moved", r.connectedAt)
e.from = c.nodeId
publish(p, {cjson.encode(e)})
return 2
`;

/**
 * A resumable session ended (the server's `sessionEnd`, reported once
 * cluster-wide by whichever node held it): remove its record wherever it
 * is and publish its `disconnect` with the end's reason, once; leave a
 * marker (PX tombstoneMs) so that a claim queued before the end cannot
 * bring it back. ARGV: prefix, nodeId, sessionId, reason, at, tombstoneMs.
 * Returns 1 (published) or 0 (no record: already reported, or never recorded).
 */
export const sessionEndScript = `${lib}
local p, sid = ARGV[1], ARGV[3]
redis.call("SET", p .. "ended:" .. sid, "1", "PX", ARGV[6])
local r = take_session(p, sid)
if not r then return 0 end
local e = event_of(r, "disconnect", tonumber(ARGV[5]))
e.reason = ARGV[4]
publish(p, {cjson.encode(e)})
return 1
`;

/**
 * This node adopted a lost node's session (the server's `sessionAdopted`):
 * move its record here, only if it is still the lost node's: held by
 * `from`, or by no live node (orphaned, or its node's heartbeat lapsed:
 * the session store's node id may differ from presence's, or be unknown).
 * A record that moved on to a live node (resumed elsewhere), or ended,
 * stays as it is. ARGV: prefix, nodeId, sessionId, from, at. Returns the
 * record JSON now stored (`moved` published, never offline), or nil.
 */
export const sessionAdoptScript = `${lib}
local p, node, sid, from = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call("HGET", p .. "sess", sid)
if not cur then return nil end
local c = cjson.decode(cur)
if c.nodeId == node then return nil end
if c.nodeId ~= from and not redis.call("ZSCORE", p .. "orphans", sid)
    and redis.call("EXISTS", p .. "hb:" .. tostring(c.nodeId)) == 1 then
  return nil
end
local held_by = c.nodeId
take_session(p, sid)
c.nodeId = node
put_session(p, sid, c)
local e = event_of(c, "moved", tonumber(ARGV[5]))
e.from = held_by
publish(p, {cjson.encode(e)})
return cjson.encode(c)
`;

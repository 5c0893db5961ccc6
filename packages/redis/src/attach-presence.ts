import { type Clock, listenerThrew, systemClock, type TimerHandle } from "@heartline/protocol";
import { PresenceError, PresenceErrorCode } from "./errors.js";
import {
  type PresenceConnectEvent,
  type PresenceDisconnectEvent,
  type PresenceEntry,
  PresenceReason,
  parseEntry,
} from "./events.js";
import { presenceKeys } from "./keys.js";
import { defaultNodeId } from "./node-id.js";
import {
  type AttachPresenceOptions,
  type PresenceConnection,
  type PresenceDisconnectReport,
  type PresenceListeners,
  type PresenceSessionAdopted,
  type PresenceSessionEnd,
  type PresenceSessionMoved,
  type PresenceSource,
  type PresenceState,
  type PresenceStats,
  presenceDefaults,
} from "./options.js";
import { type PendingChange, PendingChanges, type PendingOp } from "./pending-changes.js";
import { openPresenceReader, type PresenceReader } from "./reader.js";
import { runScript } from "./redis-client.js";
import {
  connectScript,
  disconnectScript,
  leaveScript,
  resyncScript,
  sessionAdoptScript,
  sessionConnectScript,
  sessionEndScript,
  tickScript,
} from "./scripts.js";

/** What `attachPresence` returns: the cluster-wide reader, plus this node's controls. */
export interface Presence extends PresenceReader {
  /** This node's id in the cluster. */
  readonly nodeId: string;
  /** This node's counters. */
  stats(): PresenceStats;
  /** The link to Redis now (`state` event on each change). */
  readonly state: PresenceState;
  /** Adds a listener (`error`, `overflow`, `resync`, `reap`, `state`). */
  on<K extends keyof PresenceListeners>(
    event: K,
    listener: NonNullable<PresenceListeners[K]>,
  ): void;
  /** Resolves true once every pending change is written, false after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<boolean>;
  /**
   * Stops the heartbeat and detaches from the server; writes what is pending
   * (up to `timeoutMs`, default 2000) and then unregisters the node, reporting
   * any connection it still held as `server_closed` (its resumable sessions
   * are orphaned instead when `orphanWindowMs` is above 0: a survivor adopts
   * them). Close the Heartline server first, so each connection is reported
   * with its own reason and each session handed over or ended.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

type Emitters = { [K in keyof PresenceListeners]-?: Set<NonNullable<PresenceListeners[K]>> };

/** The record stored in Redis for an entry (the event fields are added by the scripts). */
function recordOf(e: PresenceEntry): string {
  return JSON.stringify({
    nodeId: e.nodeId,
    sessionId: e.sessionId,
    identity: e.identity,
    connectedAt: e.connectedAt,
    ...(e.resumable === true ? { resumable: true } : {}),
  });
}

function checkPositive(name: string, value: number): void {
  if (!(value > 0)) {
    throw new PresenceError(PresenceErrorCode.InvalidOption, `${name} must be > 0, got ${value}`);
  }
}

/**
 * Records every connection of a Heartline server in Redis, keeps this node's
 * heartbeat, and reaps nodes whose heartbeat lapsed. Writes to Redis only on
 * connect and disconnect, plus one script call per node per `nodeHeartbeatMs`;
 * never per client heartbeat. Redis being down never throws into the server:
 * changes are buffered (bounded) and the node resyncs when Redis is back.
 */
export async function attachPresence<TConn extends PresenceConnection>(
  server: PresenceSource<TConn>,
  options: AttachPresenceOptions<TConn>,
): Promise<Presence> {
  const redis = options.redis;
  const identify = options.identify;
  const clock: Clock = options.clock ?? systemClock;
  const nodeId = options.nodeId ?? defaultNodeId();
  const keyPrefix = options.keyPrefix ?? presenceDefaults.keyPrefix;
  const nodeTtlMs = options.nodeTtlMs ?? presenceDefaults.nodeTtlMs;
  const nodeHeartbeatMs = options.nodeHeartbeatMs ?? Math.max(1, Math.floor(nodeTtlMs / 3));
  const maxBuffered = options.maxBuffered ?? presenceDefaults.maxBuffered;
  const orphanWindowMs = options.orphanWindowMs ?? presenceDefaults.orphanWindowMs;
  if (!(orphanWindowMs >= 0) || !Number.isFinite(orphanWindowMs)) {
    throw new PresenceError(
      PresenceErrorCode.InvalidOption,
      `orphanWindowMs must be 0 or more (finite), got ${orphanWindowMs}`,
    );
  }
  // How long an ended session's marker keeps a late (queued) claim from reviving it.
  const tombstoneMs = 2 * Math.max(nodeTtlMs, orphanWindowMs);
  checkPositive("nodeTtlMs", nodeTtlMs);
  checkPositive("nodeHeartbeatMs", nodeHeartbeatMs);
  checkPositive("maxBuffered", maxBuffered);
  if (nodeHeartbeatMs >= nodeTtlMs) {
    throw new PresenceError(
      PresenceErrorCode.InvalidOption,
      `nodeHeartbeatMs (${nodeHeartbeatMs}) must be below nodeTtlMs (${nodeTtlMs})`,
    );
  }

  const keys = presenceKeys(keyPrefix);
  const emitters: Emitters = {
    error: new Set(),
    overflow: new Set(),
    resync: new Set(),
    reap: new Set(),
    state: new Set(),
  };
  // The reader reports to this handle's own `error` listeners (and so applies the same policy).
  const reader = openPresenceReader({ redis, keyPrefix }, emitters.error);
  const local = new Map<string, PresenceEntry>();
  /** Session entries whose session moved to another process before their claim was written. */
  const movedAway = new WeakSet<PresenceEntry>();
  /** Adoptions not written yet, by session id (a later end or move cancels them). */
  const adopting = new Map<string, PendingOp & { kind: "adopt" }>();
  const pending = new PendingChanges(maxBuffered);
  for (const [k, fn] of Object.entries(options.on ?? {})) {
    if (fn) (emitters[k as keyof Emitters] as Set<unknown>).add(fn);
  }

  let registered = false;
  let pumping = false;
  let ticking = false;
  let detached = false;
  let tickTimer: TimerHandle | undefined;
  let retryTimer: TimerHandle | undefined;
  let dropped = 0;
  let droppedSinceResync = 0;
  let overflowReported = false;
  let resyncs = 0;
  let heartbeats = 0;
  let writeErrors = 0;
  let orphansLost = 0;
  let drainWaiters: Array<() => void> = [];
  let state: PresenceState = redis.status === "ready" ? "connected" : "connecting";
  let outages = 0;

  function setState(next: PresenceState): void {
    if (next === state || state === "closed") return;
    const previous = state;
    state = next;
    if (previous === "connected" && next === "disconnected") outages++;
    emit("state", { state: next, previous, buffered: pending.size });
  }

  function emit<K extends keyof PresenceListeners>(
    event: K,
    arg: Parameters<NonNullable<PresenceListeners[K]>>[0],
  ): void {
    // A copy: a listener may add others while we loop.
    for (const fn of [...emitters[event]]) {
      try {
        (fn as (a: typeof arg) => void)(arg);
      } catch (cause) {
        // A throwing listener must not stop presence: Heartline's one policy.
        listenerThrew(
          cause,
          event === "error" ? undefined : emitters.error,
          () =>
            new PresenceError(PresenceErrorCode.ListenerThrew, `a "${event}" listener threw`, {
              cause,
            }),
        );
      }
    }
  }

  function fail(message: string, cause: unknown): void {
    writeErrors++;
    emit("error", new PresenceError(PresenceErrorCode.RedisWrite, message, { cause }));
  }

  const ready = (): boolean => redis.status === "ready";

  function requestResync(): void {
    registered = false;
    pending.pushResync([...local.values()]);
    kick();
  }

  function enqueue(op: PendingChange): void {
    const lost = pending.push(op);
    if (lost > 0) {
      dropped += lost;
      droppedSinceResync += lost;
      if (!overflowReported) {
        overflowReported = true;
        emit("overflow", { dropped: droppedSinceResync, buffered: pending.size });
        emit(
          "error",
          new PresenceError(
            PresenceErrorCode.BufferOverflow,
            `presence buffer full (${maxBuffered}): oldest changes dropped; a resync will follow`,
          ),
        );
      }
      // The set must be put right once Redis takes writes again.
      pending.pushResync([...local.values()]);
    }
    kick();
  }

  async function write(op: PendingOp): Promise<void> {
    const base = [keys.prefix, nodeId];
    if (op.kind === "connect") {
      const e = op.event;
      const r = await runScript(
        redis,
        connectScript,
        [keys.nodes],
        [...base, e.sessionId, e.identity, recordOf(e), JSON.stringify(e)],
      );
      if (r === -1) requestResync();
    } else if (op.kind === "session") {
      // Moved to another process before it was written: that process records it.
      if (movedAway.has(op.entry)) return;
      const r = await runScript(
        redis,
        sessionConnectScript,
        [keys.nodes],
        [...base, op.entry.sessionId, recordOf(op.entry)],
      );
      if (r === -1) requestResync();
    } else if (op.kind === "sessionEnd") {
      await runScript(
        redis,
        sessionEndScript,
        [keys.nodes],
        [...base, op.sessionId, op.reason, op.at, tombstoneMs],
      );
    } else if (op.kind === "adopt") {
      if (op.cancelled) return;
      const r = await runScript(
        redis,
        sessionAdoptScript,
        [keys.nodes],
        [...base, op.sessionId, op.from, op.at],
      );
      if (adopting.get(op.sessionId) === op) adopting.delete(op.sessionId);
      const entry = typeof r === "string" ? parseEntry(r) : undefined;
      // Held here from now on (kept by a resync), unless a resume here already made it so.
      if (entry !== undefined && !op.cancelled && !local.has(op.sessionId)) {
        local.set(op.sessionId, entry);
      }
    } else if (op.kind === "disconnect") {
      const e = op.event;
      const r = await runScript(
        redis,
        disconnectScript,
        [keys.nodes],
        [...base, e.sessionId, JSON.stringify(e)],
      );
      if (r === -1) requestResync();
    } else {
      const args: (string | number)[] = [
        ...base,
        nodeTtlMs,
        PresenceReason.Resync,
        clock.now(),
        orphanWindowMs,
      ];
      for (const e of op.snapshot) args.push(e.sessionId, e.identity, recordOf(e));
      const r = (await runScript(redis, resyncScript, [keys.nodes], args)) as [number, number];
      registered = true;
      resyncs++;
      const droppedBefore = droppedSinceResync;
      droppedSinceResync = 0;
      overflowReported = false;
      emit("resync", { added: r[0], removed: r[1], droppedBefore });
    }
  }

  function kick(): void {
    if (!pumping) void pump();
  }

  async function pump(): Promise<void> {
    pumping = true;
    try {
      while (!pending.empty && ready()) {
        const op = pending.peek()!;
        try {
          await write(op);
          pending.done(op);
        } catch (err) {
          fail(`presence write (${op.kind}) failed`, err);
          // Still "ready" means the command itself failed (not the link): retry later.
          if (ready() && retryTimer === undefined && !detached) {
            retryTimer = clock.setTimeout(() => {
              retryTimer = undefined;
              kick();
            }, nodeHeartbeatMs);
          }
          break;
        }
      }
    } finally {
      pumping = false;
    }
    if (pending.empty) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  async function tick(): Promise<void> {
    if (ticking || !registered || !ready()) return;
    ticking = true;
    try {
      const r = (await runScript(
        redis,
        tickScript,
        [keys.nodes],
        [keys.prefix, nodeId, nodeTtlMs, PresenceReason.NodeLost, clock.now()],
      )) as Array<string | number>;
      if (r[0] === -1) {
        requestResync();
      } else {
        heartbeats++;
        orphansLost += Number(r[1]);
        for (let i = 2; i + 2 < r.length; i += 3) {
          emit("reap", {
            nodeId: String(r[i]),
            connections: Number(r[i + 1]),
            sessions: Number(r[i + 2]),
          });
        }
      }
    } catch (err) {
      fail("presence heartbeat failed", err);
    } finally {
      ticking = false;
    }
  }

  function scheduleTick(): void {
    tickTimer = clock.setTimeout(() => {
      if (detached) return;
      scheduleTick();
      void tick();
    }, nodeHeartbeatMs);
  }

  function toEntry(conn: TConn): PresenceEntry | undefined {
    let identity: string;
    try {
      identity = identify(conn);
    } catch (err) {
      emit(
        "error",
        new PresenceError(PresenceErrorCode.Identify, "identify(conn) threw; not recorded", {
          cause: err,
        }),
      );
      return undefined;
    }
    const entry = {
      nodeId,
      sessionId: conn.sessionId,
      identity: String(identity),
      connectedAt: conn.connectedAt,
    };
    return conn.resumable === true ? { ...entry, resumable: true } : entry;
  }

  const onConnection = (conn: TConn): void => {
    if (detached) return;
    if (conn.resumable === true) {
      // A resume (or takeover) on this node of a session held here: nothing changes.
      if (local.get(conn.sessionId)?.resumable === true) return;
      const entry = toEntry(conn);
      if (entry === undefined) return;
      local.set(entry.sessionId, entry);
      // New here: a new session (`connect`), or one resumed from another node (`moved`).
      enqueue({ kind: "session", entry });
      return;
    }
    const entry = toEntry(conn);
    if (entry === undefined) return;
    local.set(entry.sessionId, entry);
    const event: PresenceConnectEvent = { ...entry, type: "connect", at: entry.connectedAt };
    enqueue({ kind: "connect", event });
  };

  const onDisconnect = (report: PresenceDisconnectReport): void => {
    if (detached) return;
    const entry = local.get(report.sessionId);
    if (entry === undefined) return;
    // A resumable session's socket: kept, replaced, or ended deliberately (then
    // `sessionEnd` follows, with the session's reason). Only the session's end counts.
    if (entry.resumable === true) return;
    local.delete(report.sessionId);
    const event: PresenceDisconnectEvent = {
      ...entry,
      type: "disconnect",
      reason: report.reason as PresenceReason,
      at: clock.now(),
      ...(report.code !== undefined ? { code: report.code } : {}),
      ...(report.lastSeenAt !== undefined ? { lastSeenAt: report.lastSeenAt } : {}),
    };
    enqueue({ kind: "disconnect", event });
  };

  /** Cancels an adoption not written yet (the session ended or moved on first). */
  function cancelAdoption(sessionId: string): void {
    const op = adopting.get(sessionId);
    if (op === undefined) return;
    op.cancelled = true;
    adopting.delete(sessionId);
  }

  const onSessionEnd = (info: PresenceSessionEnd): void => {
    if (detached) return;
    cancelAdoption(info.sessionId);
    local.delete(info.sessionId);
    // Written even when this node holds no record of it: the record may be
    // elsewhere (orphaned, or claimed late); the script removes it wherever
    // it is and publishes once, cluster-wide.
    enqueue({
      kind: "sessionEnd",
      sessionId: info.sessionId,
      reason: info.reason,
      at: info.at ?? clock.now(),
    });
  };

  const onSessionMoved = (info: PresenceSessionMoved): void => {
    if (detached) return;
    cancelAdoption(info.sessionId);
    const entry = local.get(info.sessionId);
    if (entry?.resumable !== true) return;
    // The process that has it now records it (its claim moves the record);
    // nothing is published from here.
    local.delete(info.sessionId);
    movedAway.add(entry);
  };

  const onSessionAdopted = (info: PresenceSessionAdopted): void => {
    if (detached) return;
    const op: PendingOp & { kind: "adopt" } = {
      kind: "adopt",
      sessionId: info.sessionId,
      from: info.from,
      at: clock.now(),
      cancelled: false,
    };
    adopting.set(info.sessionId, op);
    enqueue(op);
  };

  /** Listens to an event the source may not know (an `on` that throws for it never emits it). */
  function listen(event: string, listener: (info: never) => void): unknown {
    try {
      return (server.on as (e: string, l: (info: never) => void) => unknown)(event, listener);
    } catch {
      return undefined;
    }
  }

  // Every reconnection may follow a Redis restart that lost the data: resync.
  const onRedisClose = (): void => {
    if (detached) return;
    setState("disconnected");
    if (registered) requestResync();
  };
  const onRedisReady = (): void => {
    if (detached) return;
    setState("connected");
    kick();
  };
  const onRedisError = (): void => {
    // ioredis reports connection errors here and reconnects by itself; failed
    // writes are reported through our own `error` event.
  };
  redis.on("close", onRedisClose);
  redis.on("ready", onRedisReady);
  redis.on("error", onRedisError);
  const unsubscribe = [
    server.on("connection", onConnection),
    server.on("disconnect", onDisconnect),
    listen("sessionEnd", onSessionEnd),
    listen("sessionMoved", onSessionMoved),
    listen("sessionAdopted", onSessionAdopted),
  ];
  // Connections accepted before presence was attached: the first resync records them.
  for (const conn of server.connections?.() ?? []) {
    const entry = toEntry(conn);
    if (entry) local.set(entry.sessionId, entry);
  }

  function flush(timeoutMs?: number): Promise<boolean> {
    if (pending.empty) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        if (timer !== undefined) clock.clearTimeout(timer);
        resolve(true);
      };
      drainWaiters.push(done);
      if (timeoutMs !== undefined) {
        timer = clock.setTimeout(() => {
          drainWaiters = drainWaiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  const presence: Presence = {
    ...reader,
    nodeId,
    get state() {
      return state;
    },
    stats: () => ({
      nodeId,
      local: local.size,
      buffered: pending.size,
      dropped,
      resyncs,
      heartbeats,
      writeErrors,
      orphansLost,
      registered,
      state,
      outages,
    }),
    on(event, listener) {
      (emitters[event] as Set<unknown>).add(listener);
    },
    flush,
    async close(opts) {
      if (detached) return;
      detached = true;
      if (tickTimer !== undefined) clock.clearTimeout(tickTimer);
      if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
      for (const off of unsubscribe) if (typeof off === "function") off();
      if (ready()) {
        kick();
        await flush(opts?.timeoutMs ?? 2000);
        try {
          await runScript(
            redis,
            leaveScript,
            [keys.nodes],
            [keys.prefix, nodeId, PresenceReason.ServerClosed, clock.now()],
          );
        } catch (err) {
          fail("presence leave failed; the node will be reaped as node_lost", err);
        }
      }
      redis.off("close", onRedisClose);
      redis.off("ready", onRedisReady);
      redis.off("error", onRedisError);
      await reader.close();
      setState("closed");
    },
  };

  // Register (with the connections already there, queued above) and start the node heartbeat.
  pending.pushResync([...local.values()]);
  scheduleTick();
  if (ready()) await pump();
  else kick();
  return presence;
}

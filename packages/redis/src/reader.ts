import { listenerThrew, rethrowLater } from "@heartline/protocol";
import { PresenceError, PresenceErrorCode } from "./errors.js";
import {
  type PresenceEntry,
  type PresenceEvent,
  type PresenceMovedEvent,
  parseEntry,
  parseEventsMessage,
} from "./events.js";
import { presenceKeys } from "./keys.js";
import { type PresenceReaderOptions, presenceDefaults } from "./options.js";
import type { RedisClient } from "./redis-client.js";

/** `subscribe`'s options. */
export interface SubscribeOptions {
  /**
   * The subscription was interrupted (the subscriber connection to Redis dropped
   * and came back): events may have been missed. Pub/Sub delivers each event at
   * most once, to subscribers connected at the time, so read `list()` again.
   * Called after the subscription is active again.
   */
  onGap?: () => void;
  /**
   * Also deliver `moved` events (a resumable session's record moved to
   * another node without going offline: a resume there, or an adoption).
   * Off by default, so a listener written for `connect`/`disconnect` only
   * never mistakes a move for a disconnect.
   */
  moves?: boolean;
}

/** Who is online, cluster-wide, and the events channel. */
export interface PresenceReader {
  /**
   * Every live connection in the cluster: plain connections of nodes whose
   * heartbeat has not lapsed, and every resumable session that has not
   * ended (wherever it waits: on a node, or orphaned by a lost one).
   */
  list(): Promise<PresenceEntry[]>;
  /** The live connections of one identity (several tabs, devices or nodes). */
  connectionsOf(identity: string): Promise<PresenceEntry[]>;
  /** Whether `identity` has a connection on any node. */
  isOnline(identity: string): Promise<boolean>;
  /** Registered nodes whose heartbeat has not lapsed. */
  nodes(): Promise<string[]>;
  /**
   * Cluster-wide connect/disconnect events. Resolves, once subscribed, to an
   * unsubscribe function. Never rejects because Redis is unreachable: with
   * Redis down (at boot too) it waits, retrying each time the subscriber
   * connection comes back, and resolves once the subscription is active. So
   * do not await it before the server listens if Redis may be down then.
   * Rejects only when the reader is closed.
   */
  subscribe(
    listener: (event: PresenceEvent) => void,
    options?: SubscribeOptions & { moves?: false },
  ): Promise<() => Promise<void>>;
  /** The same, with `moved` events too. */
  subscribe(
    listener: (event: PresenceEvent | PresenceMovedEvent) => void,
    options: SubscribeOptions & { moves: true },
  ): Promise<() => Promise<void>>;
  /** Ends the reader's own subscriber connection (never the client it was given). */
  close(): Promise<void>;
}

interface Subscriber {
  readonly listener: (event: PresenceEvent | PresenceMovedEvent) => void;
  readonly onGap: (() => void) | undefined;
  readonly moves: boolean;
}

type ErrorListener = (err: PresenceError) => void;

/** A read-only view of cluster presence, usable from any process with a Redis client. */
export function createPresenceReader(options: PresenceReaderOptions): PresenceReader {
  const onError = options.on?.error;
  return openPresenceReader(options, onError === undefined ? [] : [onError]);
}

/**
 * The reader, reporting to `errorListeners` (read at each report: a live set,
 * so `attachPresence` hands over its own `error` listeners, added later too).
 */
export function openPresenceReader(
  options: Omit<PresenceReaderOptions, "on">,
  errorListeners: Iterable<ErrorListener>,
): PresenceReader {
  const redis = options.redis;
  const keys = presenceKeys(options.keyPrefix ?? presenceDefaults.keyPrefix);
  const subscribers = new Set<Subscriber>();
  let sub: RedisClient | undefined;
  let subscribing: Promise<void> | undefined;
  let interrupted = false;
  let closed = false;
  /** Ends a subscription still waiting for Redis when the reader closes. */
  let abandonWait: (() => void) | undefined;
  /** The first SUBSCRIBE failed (Redis down): tried again at the next "ready". */
  let retryFirst: (() => void) | undefined;

  /** Reports one of the reader's own errors; an `error` listener that throws is rethrown on a microtask. */
  const report = (err: PresenceError): void => {
    for (const listener of [...errorListeners]) {
      try {
        listener(err);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
  };
  /** The shared policy for a subscriber's listener (or `onGap`) that threw. */
  const threw = (what: string, cause: unknown): void =>
    listenerThrew(
      cause,
      errorListeners,
      () => new PresenceError(PresenceErrorCode.ListenerThrew, `${what} threw`, { cause }),
    );

  async function liveNodes(candidates: readonly string[]): Promise<Set<string>> {
    const alive = await Promise.all(candidates.map((n) => redis.exists(keys.heartbeat(n))));
    return new Set(candidates.filter((_, i) => alive[i] === 1));
  }

  async function nodes(): Promise<string[]> {
    const members = await redis.smembers(keys.nodes);
    return [...(await liveNodes(members))].sort();
  }

  // A plain connection is online while its node lives; a resumable session
  // while its record exists (offline means it ended: see the README), so a
  // session of a lapsed or lost node is still listed.
  async function list(): Promise<PresenceEntry[]> {
    const live = await nodes();
    const [sessions, ...hashes] = await Promise.all([
      redis.hvals(keys.sessions),
      ...live.map((n) => redis.hvals(keys.conns(n))),
    ]);
    const out: PresenceEntry[] = [];
    for (const values of hashes) {
      for (const text of values) {
        const entry = parseEntry(text);
        // Sessions come from their own hash, below, wherever they are.
        if (entry && entry.resumable !== true) out.push(entry);
      }
    }
    for (const text of sessions ?? []) {
      const entry = parseEntry(text);
      if (entry) out.push(entry);
    }
    return out;
  }

  async function connectionsOf(identity: string): Promise<PresenceEntry[]> {
    const values = await redis.hvals(keys.identity(identity));
    const entries = values.map(parseEntry).filter((e): e is PresenceEntry => e !== undefined);
    const plainNodes = entries.filter((e) => e.resumable !== true).map((e) => e.nodeId);
    const live = await liveNodes([...new Set(plainNodes)]);
    return entries.filter((e) => e.resumable === true || live.has(e.nodeId));
  }

  function deliver(channel: string, message: string): void {
    if (channel !== keys.events) return;
    const events = parseEventsMessage(message);
    if (events === undefined) {
      report(new PresenceError(PresenceErrorCode.BadEvent, "unreadable presence event message"));
      return;
    }
    for (const event of events) {
      for (const s of subscribers) {
        if (event.type === "moved" && !s.moves) continue;
        try {
          s.listener(event);
        } catch (cause) {
          threw("a presence subscribe listener", cause);
        }
      }
    }
  }

  function ensureSubscribed(): Promise<void> {
    if (subscribing) return subscribing;
    // Pub/Sub needs a connection of its own.
    const s = redis.duplicate();
    sub = s;
    s.on("message", deliver);
    s.on("error", () => {
      // ioredis reconnects by itself; "close"/"ready" below mark the gap.
    });
    s.on("close", () => {
      interrupted = true;
    });
    s.on("ready", () => {
      const retry = retryFirst;
      retryFirst = undefined;
      retry?.();
      if (!interrupted || closed) return;
      interrupted = false;
      // Subscribe again ourselves, so the gap is announced only once events flow.
      s.subscribe(keys.events).then(
        () => {
          for (const x of subscribers) {
            try {
              x.onGap?.();
            } catch (cause) {
              threw("onGap", cause);
            }
          }
        },
        () => {
          interrupted = true;
        },
      );
    });
    subscribing = new Promise<void>((resolve, reject) => {
      abandonWait = () =>
        reject(new PresenceError(PresenceErrorCode.Closed, "the presence reader is closed"));
      // Redis down (at boot, say): ioredis rejects the queued SUBSCRIBE after
      // its retries (MaxRetriesPerRequestError). Try again when the
      // subscriber connection is next ready, instead of failing the caller.
      const attempt = (): void => {
        if (closed) return;
        s.subscribe(keys.events).then(
          () => {
            abandonWait = undefined;
            resolve();
          },
          () => {
            if (!closed) retryFirst = attempt;
          },
        );
      };
      attempt();
    });
    return subscribing;
  }

  return {
    list,
    connectionsOf,
    isOnline: async (identity) => (await connectionsOf(identity)).length > 0,
    nodes,
    // One body for both overloads: `moves` decides what the listener is given.
    subscribe: (async (
      listener: (event: PresenceEvent | PresenceMovedEvent) => void,
      opts?: SubscribeOptions,
    ) => {
      if (closed)
        throw new PresenceError(PresenceErrorCode.Closed, "the presence reader is closed");
      const s: Subscriber = { listener, onGap: opts?.onGap, moves: opts?.moves === true };
      subscribers.add(s);
      await ensureSubscribed();
      return async () => {
        subscribers.delete(s);
      };
    }) as PresenceReader["subscribe"],
    async close() {
      closed = true;
      subscribers.clear();
      abandonWait?.();
      abandonWait = undefined;
      if (sub) {
        const s = sub;
        sub = undefined;
        await s.quit().catch(() => s.disconnect());
      }
    },
  };
}

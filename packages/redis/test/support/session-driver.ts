// A small driver for the Redis session store without a server: it plays the
// core's part (open, the journal calls, detach, end) and records every hook,
// on an injected fake clock. One `TestNode` per simulated server process,
// each with its own ioredis client.
import { type Clock, clockOf, encodeMessageFrame } from "@heartline/protocol";
import {
  type OpenResult,
  type ResolvedResumeOptions,
  type SessionOwner,
  type StoredSession,
  type StoredSessionEnd,
  sameClientDefault,
  type UnackedMessage,
} from "@heartline/server";
import FakeTimers from "@sinonjs/fake-timers";
import { expect } from "vitest";
import {
  createRedisSessionStore,
  type RedisSessionStore,
  type SessionRedisClient,
} from "../../src/index.js";

export type Data = { n: number };
export type Auth = { user: string } | undefined;

export function resumeOptions(over: Partial<ResolvedResumeOptions> = {}): ResolvedResumeOptions {
  return Object.freeze({
    windowMs: 10_000,
    maxUnackedMessages: 100,
    maxUnackedBytes: 1_048_576,
    maxUnackedBytesTotal: 67_108_864,
    maxSessions: 1000,
    maxWaitingPerAddress: 1000,
    maxWaitingPerClient: 100,
    clientOf: undefined,
    sameClient: sameClientDefault,
    ...over,
  });
}

export interface FakeTime {
  readonly clock: Clock;
  /** Advances the fake time (timers due run synchronously). */
  tick(ms: number): void;
  now(): number;
}

export function fakeTime(start = 1_700_000_000_000): FakeTime {
  const fc = FakeTimers.createClock(start);
  return { clock: clockOf(fc), tick: (ms) => void fc.tick(ms), now: () => fc.now };
}

export interface NodeEvents {
  ends: StoredSessionEnd<Data, Auth>[];
  replaced: Array<{ owner: SessionOwner; unrecorded: ReadonlyArray<UnackedMessage<Data>> }>;
  moved: Array<{ sessionId: string; unrecorded: ReadonlyArray<UnackedMessage<Data>> }>;
  adopted: StoredSession<Data, Auth>[];
  availability: boolean[];
  /** The store's `onError` reports, by code. */
  errors: string[];
}

export class TestNode {
  readonly store: RedisSessionStore<Data, Auth>;
  readonly events: NodeEvents = {
    ends: [],
    replaced: [],
    moved: [],
    adopted: [],
    availability: [],
    errors: [],
  };
  #conn = 0;

  constructor(
    readonly redis: SessionRedisClient,
    readonly time: FakeTime,
    prefix: string,
    readonly nodeId: string,
    options: ResolvedResumeOptions = resumeOptions(),
    lease = { nodeTtlMs: 3000, nodeHeartbeatMs: 1000 },
  ) {
    this.store = createRedisSessionStore<Data, Auth>({
      redis,
      nodeId,
      keyPrefix: prefix,
      retryMs: 50,
      ...lease,
      onError: (error) => this.events.errors.push(error.code),
    });
    const ev = this.events;
    this.store.start({
      onEnd: (e) => ev.ends.push(e),
      onReplaced: (owner, unrecorded) => ev.replaced.push({ owner, unrecorded }),
      onMoved: (sessionId, unrecorded) => ev.moved.push({ sessionId, unrecorded }),
      onAdopted: (s, from) => {
        expect(from).toBe((s as unknown as { adoptedFrom: string }).adoptedFrom);
        ev.adopted.push(s);
      },
      onAvailability: (a) => ev.availability.push(a),
      clock: time.clock,
      options,
    });
  }

  owner(): SessionOwner {
    return { nodeId: this.nodeId, connectionId: `c${++this.#conn}` };
  }

  async open(
    token?: string,
    auth: Auth = { user: "u1" },
  ): Promise<OpenResult<Data, Auth> & { owner: SessionOwner }> {
    const owner = this.owner();
    const r = await this.store.open(token, auth, owner, "127.0.0.1", () => crypto.randomUUID());
    return { ...r, owner };
  }
}

/** Pushes `count` messages on a session as a connection does (push, then `sent`). */
export function send(s: StoredSession<Data, Auth>, count: number, from = 0): void {
  for (let i = 0; i < count; i++) {
    const seq = s.unacked.nextSeq;
    s.unacked.push({ n: from + i }, encodeMessageFrame(JSON.stringify({ n: from + i }), seq));
    s.sent(seq);
  }
}

/** The client's messages up to `seq` arrived (as a connection advances receivedSeq, then tells). */
export function receive(s: StoredSession<Data, Auth>, seq: number): void {
  s.receivedSeq = seq;
  s.received(seq);
}

/** A client `ack`. */
export function ack(s: StoredSession<Data, Auth>, seq: number): void {
  s.unacked.ack(seq);
  s.acked(seq);
}

/** Resolves once a macrotask has passed (the store's batch is sent and answered well within a few). */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20));
}

/**
 * A client whose Pub/Sub duplicate never delivers: a node that misses the
 * takeover notice (its Pub/Sub link was down), so only fencing protects it.
 */
export function deafClient(redis: SessionRedisClient): SessionRedisClient {
  return new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === "duplicate") {
        return () => {
          const dup = target.duplicate();
          return new Proxy(dup, {
            get(t, p) {
              if (p === "subscribe") return async () => 1;
              const v = Reflect.get(t, p);
              return typeof v === "function" ? v.bind(t) : v;
            },
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Counts pipelines (round trips) and commands a client is asked to send. */
export function countingClient(redis: SessionRedisClient): {
  client: SessionRedisClient;
  counts: { pipelines: number; pipelinedCommands: number; single: number };
} {
  const counts = { pipelines: 0, pipelinedCommands: 0, single: 0 };
  const client = new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === "pipeline") {
        return () => {
          const p = target.pipeline();
          counts.pipelines++;
          return new Proxy(p, {
            get(t, q) {
              const v = Reflect.get(t, q);
              if (typeof v !== "function") return v;
              if (q === "exec") return v.bind(t);
              return (...args: unknown[]) => {
                counts.pipelinedCommands++;
                return v.apply(t, args);
              };
            },
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      if (prop === "call" || prop === "evalsha" || prop === "eval") {
        return (...args: unknown[]) => {
          counts.single++;
          return v.apply(target, args);
        };
      }
      return v.bind(target);
    },
  });
  return { client, counts };
}

/**
 * Advances fake time in steps, letting Redis answer between them: a node
 * whose clock jumps past its lease without I/O is a paused node, and is
 * (rightly) presumed dead.
 */
export async function advance(time: FakeTime, ms: number, step = 250): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    time.tick(Math.min(step, left));
    await settle();
  }
}

/**
 * Resolves once the store has nothing in flight and nothing pending, seen on
 * two consecutive macrotask turns (an answer may schedule more work).
 */
export async function storeSettled(
  store: { stats(): { inFlight: number; pending: number } },
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2) {
    await new Promise((r) => setImmediate(r));
    const st = store.stats();
    quiet = st.inFlight === 0 && st.pending === 0 ? quiet + 1 : 0;
    if (Date.now() > deadline) throw new Error("the store did not settle");
  }
}

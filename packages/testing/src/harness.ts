import { type ClientEvents, createClient } from "@heartline/client";
import { clockOf } from "@heartline/protocol";
import type { ServerCoreOptions } from "@heartline/server/core";
import FakeTimers from "@sinonjs/fake-timers";
import { Gate, gatedClock, seededRandom } from "./clocks.js";
import { harnessDefaults } from "./defaults.js";
import type { HarnessServer, TransportDriver } from "./driver.js";
import { HarnessError, HarnessErrorCode } from "./errors.js";
import { LoopbackDriver } from "./loopback/driver.js";
import { MemoryDriver } from "./memory/driver.js";
import { FakePage } from "./page.js";
import {
  type FrameEntry,
  type ServerEntry,
  type TimelineEntry,
  TimelineRecorder,
} from "./timeline.js";
import type {
  DisconnectMatch,
  FrameMatch,
  Harness,
  HarnessClient,
  HarnessClientOptions,
  HarnessOptions,
  RecordedDisconnect,
} from "./types.js";

const serverEvents = [
  "connection",
  "message",
  "disconnect",
  "error",
  "upgradeRejected",
  "resume",
  "sessionEnd",
] as const;
const clientEvents = [
  "state",
  "open",
  "disconnect",
  "reconnecting",
  "error",
  "resumed",
  "undelivered",
] as const;
/** Rounds of "run what is due now, let I/O settle" before giving up on quiet. */
const MAX_SETTLE_ROUNDS = 100;

function nameOf(who: { readonly name: string } | string | undefined): string | undefined {
  return typeof who === "string" ? who : who?.name;
}

function show(match: object): string {
  return JSON.stringify(match, (key, value) => (key === "client" ? nameOf(value) : value));
}

/**
 * A real Heartline server and real clients on one fake clock, over an
 * in-memory transport (default) or real loopback sockets.
 */
export async function createHarness<TClient = unknown, TServer = unknown, TAuth = unknown>(
  options: HarnessOptions<TClient, TServer, TAuth> = {},
): Promise<Harness<TClient, TServer, TAuth>> {
  const transport = options.transport ?? harnessDefaults.transport;
  if (transport !== "memory" && transport !== "loopback") {
    throw new HarnessError(HarnessErrorCode.InvalidOption, `unknown transport "${transport}"`);
  }
  const fc = options.clock ?? FakeTimers.createClock(options.startAt ?? harnessDefaults.startAt);
  const heartlineClock = clockOf(fc);
  const withinMs = options.withinMs ?? harnessDefaults.withinMs;
  const seed = options.seed ?? harnessDefaults.seed;
  const timeline = new TimelineRecorder(fc.now, () => fc.now);
  const sessionNames = new Map<string, string>();
  let sessions = 0;
  const serverOptions = {
    generateSessionId: () => `session-${++sessions}`,
    ...options.server,
  } as ServerCoreOptions;

  const driver: TransportDriver =
    transport === "memory"
      ? new MemoryDriver(fc, heartlineClock, serverOptions, sessionNames)
      : new LoopbackDriver(heartlineClock, serverOptions, sessionNames, {
          quietMs: options.quietMs ?? harnessDefaults.quietMs,
          quietTimeoutMs: options.quietTimeoutMs ?? harnessDefaults.quietTimeoutMs,
          timeline,
        });

  let server: HarnessServer;
  let closed = false;
  const clients: HarnessClient[] = [];
  const disposers: Array<() => Promise<void>> = [];

  async function startServer(): Promise<HarnessServer> {
    server = await driver.startServer();
    for (const event of serverEvents) {
      server.on(event, (a: unknown, b: unknown) => {
        const sessionId =
          event === "disconnect"
            ? (a as { sessionId: string }).sessionId
            : event === "error"
              ? (b as { sessionId?: string } | undefined)?.sessionId
              : event === "upgradeRejected"
                ? undefined
                : (a as { sessionId: string }).sessionId;
        const payload =
          event === "connection" ? { sessionId } : event === "message" ? { sessionId, data: b } : a;
        timeline.add({
          kind: "server",
          client: sessionId === undefined ? undefined : sessionNames.get(sessionId),
          event,
          payload,
        });
      });
    }
    return server;
  }

  function alive(): void {
    if (closed) throw new HarnessError(HarnessErrorCode.Closed, "the harness is closed");
  }

  /** Runs what is due now (timers at now, deliveries, microtasks, and for loopback real I/O) until nothing moves. */
  async function settle(): Promise<void> {
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      const before = timeline.entries.length;
      await fc.tickAsync(0);
      await driver.settle();
      if (timeline.entries.length === before) return;
    }
  }

  /**
   * Steps the fake clock one timer at a time up to `deadline` (inclusive),
   * letting everything due settle after each, and stops as soon as `done()`
   * is true. A sentinel timer at the deadline keeps `nextAsync` from
   * jumping past it.
   */
  async function runUntil(deadline: number, done: () => boolean): Promise<boolean> {
    await settle();
    if (done()) return true;
    let reached = fc.now >= deadline;
    const sentinel = reached
      ? undefined
      : fc.setTimeout(() => {
          reached = true;
        }, deadline - fc.now);
    try {
      while (!reached) {
        await fc.nextAsync();
        await settle();
        if (done()) return true;
      }
      // Timers due exactly at the deadline but set after the sentinel.
      await settle();
      return done();
    } finally {
      if (sentinel !== undefined) fc.clearTimeout(sentinel);
    }
  }

  function checkWithin(within: number): number {
    if (!(within >= 0 && Number.isFinite(within))) {
      throw new HarnessError(HarnessErrorCode.InvalidOption, "within must be a finite number ≥ 0");
    }
    return within;
  }

  /**
   * Watches new timeline entries for the first one `predicate` accepts. A
   * predicate that throws ends the watch: `found()` then throws its error, so
   * the wait rejects with it (rather than timing out, or throwing into the
   * server or client whose event was being recorded).
   */
  function watchFor(predicate: (entry: TimelineEntry) => boolean) {
    let found: TimelineEntry | undefined;
    let failed: { error: unknown } | undefined;
    const stop = timeline.watch((entry) => {
      if (found !== undefined || failed !== undefined) return;
      try {
        if (predicate(entry)) found = entry;
      } catch (error) {
        failed = { error };
      }
    });
    return {
      stop,
      done: () => found !== undefined || failed !== undefined,
      found(): TimelineEntry | undefined {
        if (failed !== undefined) throw failed.error;
        return found;
      },
    };
  }

  /** Waits for the first entry (at or after `since`) that `predicate` accepts. */
  async function waitForEntry<T extends TimelineEntry>(
    predicate: (entry: TimelineEntry) => entry is T,
    what: string,
    within = withinMs,
    since = fc.now,
  ): Promise<T> {
    alive();
    checkWithin(within);
    const started = fc.now;
    let found = timeline.entries.find((e): e is T => e.at >= since && predicate(e));
    const watched = watchFor(predicate);
    try {
      if (found === undefined) await runUntil(started + within, () => watched.done());
    } finally {
      watched.stop();
    }
    found ??= watched.found() as T | undefined;
    if (found === undefined) {
      throw new HarnessError(
        HarnessErrorCode.WaitTimedOut,
        `waited ${within} fake ms (+${started - timeline.startedAt} → +${fc.now - timeline.startedAt}) for ${what}; it did not happen.\n${timeline.format()}`,
      );
    }
    return found;
  }

  async function expectNoEntry(
    predicate: (entry: TimelineEntry) => boolean,
    what: string,
    within: number,
  ): Promise<void> {
    alive();
    checkWithin(within);
    const started = fc.now;
    const watched = watchFor(predicate);
    try {
      await runUntil(started + within, () => watched.done());
    } finally {
      watched.stop();
    }
    const found = watched.found();
    if (found !== undefined) {
      throw new HarnessError(
        HarnessErrorCode.UnexpectedEvent,
        `expected no ${what} for ${within} fake ms from +${started - timeline.startedAt}, but one came at +${found.at - timeline.startedAt}.\n${timeline.format()}`,
      );
    }
  }

  const isDisconnect =
    (match: DisconnectMatch) =>
    (entry: TimelineEntry): entry is ServerEntry => {
      if (entry.kind !== "server" || entry.event !== "disconnect") return false;
      const info = entry.payload as { reason: string; code?: number; sessionId: string };
      return (
        (match.reason === undefined || info.reason === match.reason) &&
        (match.code === undefined || info.code === match.code) &&
        (match.sessionId === undefined || info.sessionId === match.sessionId) &&
        (match.client === undefined || entry.client === nameOf(match.client))
      );
    };

  const isFrame =
    (match: FrameMatch) =>
    (entry: TimelineEntry): entry is FrameEntry =>
      entry.kind === "frame" &&
      !entry.dropped &&
      (match.direction === undefined || entry.direction === match.direction) &&
      (match.type === undefined || entry.type === match.type) &&
      (match.client === undefined || entry.client === nameOf(match.client));

  async function client<TC, TS>(
    clientOptions: HarnessClientOptions<TC, TS> = {},
  ): Promise<HarnessClient<TC, TS>> {
    alive();
    const index = clients.length + 1;
    const {
      name = `c${index}`,
      auth,
      origin,
      path,
      connect: autoConnect = true,
      ...rest
    } = clientOptions;
    const gate = new Gate();
    const page = new FakePage(gate);
    const link = await driver.link({ name, gate, timeline, auth, origin, path });
    disposers.push(() => link.dispose());
    const real = createClient<TC, TS>({
      random: seededRandom(seed + index),
      ...rest,
      url: link.url,
      WebSocket: link.WebSocket,
      clock: gatedClock(fc, gate),
    });
    for (const event of clientEvents) {
      real.on(event, (payload: ClientEvents[typeof event]) => {
        if (event === "open") {
          const { sessionId } = payload as ClientEvents["open"];
          if (!sessionNames.has(sessionId)) sessionNames.set(sessionId, name);
        }
        timeline.add({ kind: "client", client: name, event, payload });
      });
    }
    const control = (what: string, action: () => void) => () => {
      timeline.add({ kind: "control", client: name, what });
      action();
    };
    const wrapped: HarnessClient<TC, TS> = {
      name,
      get frozen() {
        return gate.frozen;
      },
      get state() {
        return real.state;
      },
      get sessionId() {
        return real.sessionId;
      },
      get rtt() {
        return real.rtt;
      },
      get stats() {
        return real.stats;
      },
      get heartbeat() {
        return real.heartbeat;
      },
      getSnapshot: () => real.getSnapshot(),
      subscribe: (listener) => real.subscribe(listener),
      // The client finds its page in `connect()`: give it this client's page.
      connect: () => page.asGlobal(() => real.connect()),
      send: (data) => real.send(data),
      close: (code, reason) => real.close(code, reason),
      on: (event, listener) => real.on(event, listener),
      blackhole: (blackholeOptions) => link.blackhole(blackholeOptions),
      heal: () => link.heal(),
      latency: (ms, direction) => link.latency(ms, direction),
      drop: (direction, predicate) => link.drop(direction, predicate),
      delay: (direction, ms, predicate) => link.delay(direction, ms, predicate),
      abort: () => link.abort(),
      hidden: control("hidden", () => page.setVisibility("hidden")),
      visible: control("visible", () => page.setVisibility("visible")),
      freeze: control("freeze", () => page.freeze()),
      resume: control("resume", () => page.resume()),
      offline: control("offline", () => {
        link.setOffline(true);
        page.setOnline(false);
      }),
      online: control("online", () => {
        link.setOffline(false);
        page.setOnline(true);
      }),
    };
    clients.push(wrapped as HarnessClient);
    if (autoConnect) wrapped.connect();
    return wrapped;
  }

  await startServer();

  const harness: Harness<TClient, TServer, TAuth> = {
    transport,
    clock: fc,
    heartlineClock,
    get now() {
      return fc.now;
    },
    get server() {
      return server as HarnessServer<TServer, TAuth, TClient>;
    },
    timeline,
    client,
    async advance(ms) {
      alive();
      checkWithin(ms);
      await runUntil(fc.now + ms, () => false);
    },
    async stopServer(stopOptions = {}) {
      alive();
      let stopped = false;
      timeline.add({ kind: "control", client: undefined, what: "stop server" });
      void driver.stopServer().then(() => {
        stopped = true;
      });
      const within = stopOptions.within ?? withinMs;
      if (!(await runUntil(fc.now + checkWithin(within), () => stopped))) {
        throw new HarnessError(
          HarnessErrorCode.WaitTimedOut,
          `the server did not finish closing within ${within} fake ms.\n${timeline.format()}`,
        );
      }
    },
    async startServer() {
      alive();
      timeline.add({ kind: "control", client: undefined, what: "start server" });
      return (await startServer()) as HarnessServer<TServer, TAuth, TClient>;
    },
    waitFor: {
      async disconnect(match = {}, waitOptions = {}) {
        const entry = await waitForEntry(
          isDisconnect(match),
          `a server disconnect matching ${show(match)}`,
          waitOptions.within,
          waitOptions.since,
        );
        return {
          ...(entry.payload as RecordedDisconnect<TAuth>),
          at: entry.at,
          client: entry.client,
        };
      },
      async clientState(target, state, waitOptions = {}) {
        alive();
        const within = checkWithin(waitOptions.within ?? withinMs);
        const started = fc.now;
        if (await runUntil(started + within, () => target.state === state)) return;
        throw new HarnessError(
          HarnessErrorCode.WaitTimedOut,
          `waited ${within} fake ms for client state "${state}"; it is "${target.state}".\n${timeline.format()}`,
        );
      },
      frame(match = {}, waitOptions = {}) {
        return waitForEntry(
          isFrame(match),
          `a frame matching ${show(match)}`,
          waitOptions.within,
          waitOptions.since,
        );
      },
      clientEvent(target, event, predicate, waitOptions = {}) {
        type Found = Awaited<ReturnType<Harness["waitFor"]["clientEvent"]>>;
        return waitForEntry(
          (entry): entry is Found =>
            entry.kind === "client" &&
            entry.client === target.name &&
            entry.event === event &&
            (predicate === undefined || predicate(entry.payload as never)),
          `client ${target.name} event "${event}"`,
          waitOptions.within,
          waitOptions.since,
        ) as never;
      },
      entry(predicate, waitOptions = {}) {
        return waitForEntry(
          (entry): entry is TimelineEntry => predicate(entry),
          "a matching timeline entry",
          waitOptions.within,
          waitOptions.since,
        );
      },
    },
    expectNo: {
      disconnect: (match, { within }) =>
        expectNoEntry(isDisconnect(match), `server disconnect matching ${show(match)}`, within),
      frame: (match, { within }) =>
        expectNoEntry(isFrame(match), `frame matching ${show(match)}`, within),
      entry: (predicate, { within }) => expectNoEntry(predicate, "matching timeline entry", within),
    },
    async close() {
      if (closed) return;
      for (const c of clients) c.close();
      try {
        if (server.accepting) await harness.stopServer();
      } finally {
        closed = true;
        for (const dispose of disposers) await dispose();
        await driver.dispose();
      }
    },
  };
  return harness;
}

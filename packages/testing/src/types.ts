import type { ClientEvents, ClientOptions, ClientState, HeartlineClient } from "@heartline/client";
import type { Clock, DisconnectReason } from "@heartline/protocol";
import type { DisconnectInfo, ServerCoreOptions } from "@heartline/server/core";
import type FakeTimers from "@sinonjs/fake-timers";
import type { HarnessServer, LinkControls } from "./driver.js";
import type { ClientEntry, Direction, FrameEntry, Timeline, TimelineEntry } from "./timeline.js";

/** `createHarness`'s options; defaults are in `harnessDefaults`. */
export interface HarnessOptions<TClient = unknown, TServer = unknown, TAuth = unknown> {
  /**
   * The server's options (the transport-free core's: `intervalMs`,
   * `timeoutMs`, `protocol`, `on`, `reconnectWindow`, `resume`, and the
   * admission checks `path`, `allowedOrigins`, `authenticate`…). Both
   * transports carry the client's offered subprotocols (`heartline.resume`,
   * `heartline.resume.<token>`) to the server's admission, so resumption
   * works as in production. Its `clock` is always
   * the harness's. Default `generateSessionId`: `session-1`, `session-2`…
   */
  server?: ServerCoreOptions<TClient, TServer, TAuth>;
  /**
   * The one fake clock everybody runs on. Default: a new, un-installed
   * `FakeTimers.createClock(startAt)`: no global is patched. Pass an
   * installed one (`FakeTimers.install()`) if the app's own code uses the
   * global timers and must move with the harness.
   */
  clock?: FakeTimers.Clock;
  /** Default `"memory"`; see `harnessDefaults.transport`. */
  transport?: "memory" | "loopback";
  /** See `harnessDefaults`. */
  startAt?: number;
  withinMs?: number;
  seed?: number;
  quietMs?: number;
  quietTimeoutMs?: number;
}

/** `harness.client()`'s options: the client's own, plus `name`, `auth` and `connect`. */
export interface HarnessClientOptions<TClientData = unknown, TServerData = unknown>
  extends Omit<ClientOptions<TClientData, TServerData>, "url" | "WebSocket" | "clock"> {
  /** How the timeline names it. Default `c1`, `c2`… */
  name?: string;
  /** Memory transport, no `authenticate` in the server's options: what the server's connection gets as `conn.auth`. */
  auth?: unknown;
  /** The `Origin` header of the client's upgrades, as a browser on that page sends it. Default: none. */
  origin?: string;
  /** The path and query the client connects to (`/ws?token=…`). Default: the server's `path`. */
  path?: string;
  /** Call `connect()` at once. Default true. */
  connect?: boolean;
}

/** Page-life events, driving the client's real listeners on a page of its own. */
export interface PageControls {
  /** `visibilitychange` with `document.visibilityState` "hidden" (timers are not throttled). */
  hidden(): void;
  /** `visibilitychange` back to "visible". */
  visible(): void;
  /** `freeze`, then the page runs nothing: no timer fires and no socket event arrives until `resume()`. */
  freeze(): void;
  /** `resume`, then everything that came due while frozen, in order. */
  resume(): void;
  /** The network goes: `navigator.onLine` false and `offline` fires, the link holds everything; the client waits for `online()` to try again (an attempt would fail at once). */
  offline(): void;
  /** The network is back: held bytes flow, `online` fires. */
  online(): void;
}

/** A real Heartline client, plus its link's faults and its page's life. */
export interface HarnessClient<TClientData = unknown, TServerData = unknown>
  extends HeartlineClient<TClientData, TServerData>,
    LinkControls,
    PageControls {
  readonly name: string;
  /** True between `freeze()` and `resume()`. */
  readonly frozen: boolean;
}

/** How far a `waitFor.*` may advance fake time, and from when events count. */
export interface WaitOptions {
  /** Fake ms this wait may advance the clock by. Default `harnessDefaults.withinMs`. */
  within?: number;
  /** Only what happened at or after this fake time counts. Default: now. */
  since?: number;
}

/** Which server disconnect reports match (every given field must). */
export interface DisconnectMatch {
  reason?: DisconnectReason;
  code?: number;
  sessionId?: string;
  /** The client (or its name) whose connection it was. */
  client?: { readonly name: string } | string;
}

/** A server `disconnect` as recorded, with its fake time and the client it was. */
export type RecordedDisconnect<TAuth = unknown> = DisconnectInfo<TAuth> & {
  readonly at: number;
  readonly client: string | undefined;
};

/** Which delivered frames match (every given field must). */
export interface FrameMatch {
  direction?: Direction;
  /** The frame's `type`: `ping`, `pong`, `welcome`, `message`, `ack`, `error`, `goodbye`. */
  type?: string;
  client?: { readonly name: string } | string;
}

/** `harness.waitFor`: advance fake time until something happens, or fail. */
export interface WaitFor<TAuth = unknown> {
  /** Advances fake time until the server reports a matching disconnect; returns it. */
  disconnect(match?: DisconnectMatch, options?: WaitOptions): Promise<RecordedDisconnect<TAuth>>;
  /** Advances fake time until the client is in `state` (at once if it is). */
  clientState(
    client: { readonly state: ClientState },
    state: ClientState,
    options?: Omit<WaitOptions, "since">,
  ): Promise<void>;
  /** Advances fake time until a matching data frame is delivered; returns it. */
  frame(match?: FrameMatch, options?: WaitOptions): Promise<FrameEntry>;
  /** Advances fake time until the client emits `event` (that `predicate` accepts). */
  clientEvent<K extends keyof ClientEvents>(
    client: { readonly name: string },
    event: K,
    predicate?: (payload: ClientEvents[K]) => boolean,
    options?: WaitOptions,
  ): Promise<ClientEntry & { payload: ClientEvents[K] }>;
  /** Advances fake time until a timeline entry `predicate` accepts is recorded. */
  entry(
    predicate: (entry: TimelineEntry) => boolean,
    options?: WaitOptions,
  ): Promise<TimelineEntry>;
}

/** `harness.expectNo`: advance fake time and fail if something happens. */
export interface ExpectNo {
  /** Advances fake time by `within` ms; fails (stopping there) if a matching disconnect happens. */
  disconnect(match: DisconnectMatch, options: { within: number }): Promise<void>;
  /** Advances fake time by `within` ms; fails if a matching frame is delivered. */
  frame(match: FrameMatch, options: { within: number }): Promise<void>;
  /** Advances fake time by `within` ms; fails if `predicate` accepts a new timeline entry. */
  entry(predicate: (entry: TimelineEntry) => boolean, options: { within: number }): Promise<void>;
}

/** What `createHarness` resolves to. */
export interface Harness<TClient = unknown, TServer = unknown, TAuth = unknown> {
  readonly transport: "memory" | "loopback";
  /** The one fake clock. */
  readonly clock: FakeTimers.Clock;
  /** The same clock as a Heartline `Clock`, for the app's own code under test. */
  readonly heartlineClock: Clock;
  /** `clock.now`. */
  readonly now: number;
  /** The current server (a new one after `startServer()`). */
  readonly server: HarnessServer<TServer, TAuth, TClient>;
  readonly timeline: Timeline;
  /** A real client on a link of its own; connected unless `connect: false`. */
  client<TC = TClient, TS = TServer>(
    options?: HarnessClientOptions<TC, TS>,
  ): Promise<HarnessClient<TC, TS>>;
  /** Moves everyone's time `ms` forward, running every consequence in order. */
  advance(ms: number): Promise<void>;
  /** The server shuts down (goodbye + 1001 to all); fake time advances until every socket is gone. */
  stopServer(options?: { within?: number }): Promise<void>;
  /** A new server with the same options (loopback: on the same port). */
  startServer(): Promise<HarnessServer<TServer, TAuth, TClient>>;
  readonly waitFor: WaitFor<TAuth>;
  readonly expectNo: ExpectNo;
  /** Closes every client and the server; frees ports (loopback). Call it in afterEach. */
  close(): Promise<void>;
}

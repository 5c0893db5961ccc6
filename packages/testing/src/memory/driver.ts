import type { WebSocketConstructor } from "@heartline/client";
import type { Clock } from "@heartline/protocol";
import {
  type Admission,
  createServerCore,
  type ServerCore,
  type ServerCoreOptions,
  serverDefaults,
  type UpgradeRequest,
} from "@heartline/server/core";
import type FakeTimers from "@sinonjs/fake-timers";
import type { HarnessServer, LinkContext, LinkDriver, TransportDriver } from "../driver.js";
import { Scheduler } from "../scheduler.js";
import {
  type ConnectionEnv,
  type MemoryConnection,
  MemoryServerEnd,
  MemoryWebSocket,
} from "./connection.js";
import { MemoryLink } from "./link.js";

/** The origin of the URL memory clients are given; nothing resolves it. */
const MEMORY_HOST = "heartline.memory";

/**
 * The third adapter: the real server core on a transport made of in-memory
 * links, one per client. No sockets, no ports; every delivery on the fake clock.
 */
export class MemoryDriver implements TransportDriver {
  readonly #fc: FakeTimers.Clock;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #options: ServerCoreOptions;
  readonly #sessionNames: Map<string, string>;
  #core: ServerCore | undefined;
  /**
   * `stopServer()` began: as over loopback, where the server detaches from
   * its HTTP server first, nothing listens any more and attempts fail at the
   * socket, before any admission check.
   */
  #stopped = false;
  /** The client whose connection the core is accepting right now (names its session id). */
  #accepting: string | undefined;

  constructor(
    fc: FakeTimers.Clock,
    clock: Clock,
    options: ServerCoreOptions,
    sessionNames: Map<string, string>,
  ) {
    this.#fc = fc;
    this.#clock = clock;
    this.#scheduler = new Scheduler(fc);
    this.#options = options;
    this.#sessionNames = sessionNames;
  }

  async startServer(): Promise<HarnessServer> {
    const generate = this.#options.generateSessionId;
    const core = createServerCore({
      ...this.#options,
      clock: this.#clock,
      generateSessionId: () => {
        const id = generate!();
        if (this.#accepting !== undefined) this.#sessionNames.set(id, this.#accepting);
        return id;
      },
    });
    this.#core = core;
    this.#stopped = false;
    return core;
  }

  stopServer(): Promise<void> {
    this.#stopped = true;
    return this.#core?.close() ?? Promise.resolve();
  }

  async link(context: LinkContext): Promise<LinkDriver> {
    const link = new MemoryLink(this.#fc, this.#scheduler, context.timeline, context.name);
    const env: ConnectionEnv = {
      fc: this.#fc,
      clock: this.#clock,
      scheduler: this.#scheduler,
      link,
      gate: context.gate,
      accept: (connection, url, protocols) => this.#accept(connection, url, protocols, context),
      closeTimeoutMs: this.#options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs,
    };
    class HarnessWebSocket extends MemoryWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, env);
      }
    }
    return {
      WebSocket: HarnessWebSocket as WebSocketConstructor,
      url: `ws://${MEMORY_HOST}${context.path ?? this.#options.path ?? serverDefaults.path}`,
      setOffline: (offline) => link.setOffline(offline),
      blackhole: (options) => link.blackhole(options),
      heal: () => link.heal(),
      latency: (ms, direction) => link.latency(ms, direction),
      drop: (direction, predicate) => link.drop(direction, predicate),
      delay: (direction, ms, predicate) => link.delay(direction, ms, predicate),
      abort: () => link.abort(),
      dispose: async () => {},
    };
  }

  /** The client's `connect` arrived: the core's admission decides, as for the `ws` adapter. */
  #accept(
    connection: MemoryConnection,
    url: string,
    protocols: readonly string[],
    context: LinkContext,
  ): void {
    const core = this.#core;
    if (core === undefined || this.#stopped) {
      const client = connection.client;
      connection.toClient({ kind: "refuse" }, () => client.refused());
      return;
    }
    const target = new URL(url);
    const headers: Record<string, string> = {
      host: target.host,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
    };
    if (protocols.length > 0) headers["sec-websocket-protocol"] = protocols.join(", ");
    if (context.origin !== undefined) headers.origin = context.origin;
    // What `authenticate` is given in memory: the request's headers and target, as `IncomingMessage` has them.
    const request: UpgradeRequest = { headers, url: target.pathname + target.search };
    // The session store opens a resumable session at admission: its id is
    // named for this client then, and without `authenticate` it is opened
    // with the harness's `auth` for it (what `accept` is given below).
    this.#accepting = context.name;
    let admission: ReturnType<typeof core.admit>;
    try {
      admission = core.admit({
        ...request,
        remoteAddress: `memory:${context.name}`,
        raw: request,
        signal: connection.signal,
        ...(this.#options.authenticate === undefined ? { auth: context.auth } : {}),
      });
    } finally {
      this.#accepting = undefined;
    }
    if (admission instanceof Promise) {
      void admission.then((settled) => this.#answer(core, connection, settled, context));
    } else this.#answer(core, connection, admission, context);
  }

  #answer(
    core: ServerCore,
    connection: MemoryConnection,
    admission: Admission<unknown>,
    context: LinkContext,
  ): void {
    if (admission.kind === "abandoned") return;
    const client = connection.client;
    if (admission.kind === "refused") {
      // A browser sees no status: the attempt fails (error, then close 1006).
      connection.toClient({ kind: "refuse", status: admission.status }, () => client.refused());
      return;
    }
    const end = new MemoryServerEnd(connection);
    connection.server = end;
    const protocol = admission.protocol;
    // `open` goes first: accept() writes welcome at once.
    connection.toClient({ kind: "open", protocol }, () => client.opened(protocol));
    const auth = this.#options.authenticate === undefined ? context.auth : admission.auth;
    this.#accepting = context.name;
    try {
      // As in the ws adapter: the address capacity counted (`addressOf`, or
      // the link's) and the resume offer admission parsed go on to accept;
      // the token is checked and spent there.
      end.sink = core.accept(end, {
        remoteAddress: admission.remoteAddress,
        auth,
        resume: admission.resume,
      });
    } finally {
      this.#accepting = undefined;
    }
    // A session opened after an asynchronous `authenticate` was named outside `admit`'s turn.
    const sessionId = (end.sink as { sessionId?: string }).sessionId;
    if (sessionId !== undefined && !this.#sessionNames.has(sessionId)) {
      this.#sessionNames.set(sessionId, context.name);
    }
  }

  async settle(): Promise<void> {}

  async dispose(): Promise<void> {}
}

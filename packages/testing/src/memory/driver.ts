import type { WebSocketConstructor } from "@heartline/client";
import { type Clock, SUBPROTOCOL } from "@heartline/protocol";
import {
  createServerCore,
  type ServerCore,
  type ServerCoreOptions,
  serverDefaults,
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

/** The URL memory clients are given; nothing resolves it. */
const MEMORY_URL = "ws://heartline.memory/ws";

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
    return core;
  }

  stopServer(): Promise<void> {
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
      accept: (connection, protocols) => this.#accept(connection, protocols, context),
      closeTimeoutMs: this.#options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs,
    };
    class HarnessWebSocket extends MemoryWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, env);
      }
    }
    return {
      WebSocket: HarnessWebSocket as WebSocketConstructor,
      url: MEMORY_URL,
      setOffline: (offline) => link.setOffline(offline),
      blackhole: () => link.blackhole(),
      heal: () => link.heal(),
      latency: (ms, direction) => link.latency(ms, direction),
      drop: (direction, predicate) => link.drop(direction, predicate),
      delay: (direction, ms, predicate) => link.delay(direction, ms, predicate),
      abort: () => link.abort(),
      dispose: async () => {},
    };
  }

  #accept(connection: MemoryConnection, protocols: readonly string[], context: LinkContext): void {
    const core = this.#core;
    const client = connection.client;
    // The ws adapter's answers: 503 while shutting down (or down), 400 without our subprotocol.
    if (
      core === undefined ||
      !core.accepting ||
      (protocols.length > 0 && !protocols.includes(SUBPROTOCOL))
    ) {
      connection.toClient({ kind: "refuse" }, () => client.refused());
      return;
    }
    const end = new MemoryServerEnd(connection);
    connection.server = end;
    const protocol = protocols.length > 0 ? SUBPROTOCOL : "";
    // `open` goes first: accept() writes welcome at once.
    connection.toClient({ kind: "open", protocol }, () => client.opened(protocol));
    this.#accepting = context.name;
    try {
      end.sink = core.accept(end, { remoteAddress: `memory:${context.name}`, auth: context.auth });
    } finally {
      this.#accepting = undefined;
    }
  }

  async settle(): Promise<void> {}

  async dispose(): Promise<void> {}
}

import type { AddressInfo } from "node:net";
import type { WebSocketConstructor } from "@heartline/client";
import type { Clock } from "@heartline/protocol";
import { createServer, type HeartlineServer } from "@heartline/server";
import { type ServerCoreOptions, serverDefaults } from "@heartline/server/core";
import { checkWhileBlackholed } from "../blackhole.js";
import { realSleep } from "../clocks.js";
import type { HarnessServer, LinkContext, LinkDriver, TransportDriver } from "../driver.js";
import { HarnessError, HarnessErrorCode } from "../errors.js";
import type { TimelineRecorder } from "../timeline.js";
import { startLoopbackProxy } from "./proxy.js";
import { LoopbackSocket } from "./socket.js";

const HOST = "127.0.0.1";

function unsupported(control: string): never {
  throw new HarnessError(
    HarnessErrorCode.UnsupportedOnLoopback,
    `${control}() needs the in-memory transport: over real sockets the harness cannot hold or reorder single frames (blackhole, heal, abort, offline and online work on both)`,
  );
}

/**
 * The same harness on real sockets: a real `@heartline/server` on
 * 127.0.0.1, port 0 (the same port again after a restart), and real `ws`
 * clients, each through a TCP proxy of its own (for blackhole and abort).
 * Heartline's timers run on the fake clock; I/O runs for real, and after
 * every step of the clock the harness waits until it has gone quiet.
 */
export class LoopbackDriver implements TransportDriver {
  readonly #clock: Clock;
  readonly #options: ServerCoreOptions;
  readonly #sessionNames: Map<string, string>;
  readonly #quietMs: number;
  readonly #quietTimeoutMs: number;
  readonly #timeline: TimelineRecorder;
  /** The proxy's upstream local port → client name: the server sees it as the remote port. */
  readonly #upstreamNames = new Map<number, string>();
  #server: HeartlineServer | undefined;
  #port = 0;
  #activity = 0;

  constructor(
    clock: Clock,
    options: ServerCoreOptions,
    sessionNames: Map<string, string>,
    settings: { quietMs: number; quietTimeoutMs: number; timeline: TimelineRecorder },
  ) {
    this.#clock = clock;
    this.#options = options;
    this.#sessionNames = sessionNames;
    this.#quietMs = settings.quietMs;
    this.#quietTimeoutMs = settings.quietTimeoutMs;
    this.#timeline = settings.timeline;
  }

  readonly #touch = (): void => {
    this.#activity++;
  };

  async startServer(): Promise<HarnessServer> {
    const server = createServer({
      ...this.#options,
      clock: this.#clock,
      port: this.#port,
      host: HOST,
    }) as HeartlineServer;
    server.on("connection", (conn, request) => {
      this.#touch();
      const port = (request as { socket?: { remotePort?: number } } | undefined)?.socket
        ?.remotePort;
      const name = port === undefined ? undefined : this.#upstreamNames.get(port);
      if (name !== undefined) this.#sessionNames.set(conn.sessionId, name);
    });
    server.on("disconnect", this.#touch);
    await server.listening;
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return server;
  }

  stopServer(): Promise<void> {
    return this.#server?.close() ?? Promise.resolve();
  }

  async link(context: LinkContext): Promise<LinkDriver> {
    const proxy = await startLoopbackProxy({
      targetPort: () => this.#port,
      onActivity: this.#touch,
      onUpstream: (port) => this.#upstreamNames.set(port, context.name),
    });
    const path = context.path ?? this.#options.path ?? serverDefaults.path;
    const env = {
      url: `ws://${HOST}:${proxy.port}${path}`,
      origin: context.origin,
      name: context.name,
      gate: context.gate,
      timeline: context.timeline,
      onActivity: this.#touch,
    };
    class HarnessWebSocket extends LoopbackSocket {
      constructor(_url: string, protocols?: string | string[]) {
        super(protocols, env);
      }
    }
    const control = (what: string) =>
      this.#timeline.add({ kind: "control", client: context.name, what });
    return {
      WebSocket: HarnessWebSocket as WebSocketConstructor,
      url: env.url,
      setOffline: (offline) => proxy.setOffline(offline),
      blackhole: (options = {}) => {
        const mode = checkWhileBlackholed(options.whileBlackholed ?? "hold");
        control(mode === "hold" ? "blackhole" : "blackhole (discard)");
        proxy.blackhole(mode);
      },
      heal: () => {
        control("heal");
        proxy.heal();
      },
      abort: () => {
        control("abort");
        proxy.abort();
      },
      latency: () => unsupported("latency"),
      drop: () => unsupported("drop"),
      delay: () => unsupported("delay"),
      dispose: () => proxy.close(),
    };
  }

  /** Waits (wall-clock) until no byte has moved and no socket event fired for `quietMs`. */
  async settle(): Promise<void> {
    const started = Date.now();
    for (;;) {
      const before = this.#activity;
      await realSleep(this.#quietMs);
      if (this.#activity === before) return;
      if (Date.now() - started > this.#quietTimeoutMs) {
        throw new HarnessError(
          HarnessErrorCode.IoNotQuiet,
          `loopback I/O did not go quiet within ${this.#quietTimeoutMs} ms`,
        );
      }
    }
  }

  async dispose(): Promise<void> {
    await this.#server?.close();
  }
}

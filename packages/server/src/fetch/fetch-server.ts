// The part of the Bun and Deno adapters' `createServer` that does not depend
// on the runtime: option checks, the public API over the core, shutdown.
import { pathOf } from "../core/admission.js";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import { type ServerCoreOptions, serverDefaults } from "../core/options.js";
import type { ServerCore } from "../core/server-core.js";
import { targetOf } from "./fetch-upgrade.js";

/** The options both fetch-style adapters add to the core's. Give exactly one of `port` or `noServer`. */
export interface FetchServerOptions<TClient, TServer, TAuth>
  extends ServerCoreOptions<TClient, TServer, TAuth, Request> {
  /** Listen on a port of its own (0: any free port; read it from `address()`). */
  port?: number;
  /** With `port`: the interface to listen on. Default: every interface. */
  host?: string;
  /** Listen on nothing: your own server hands upgrades to `upgrade(...)`. */
  noServer?: boolean;
  /** Largest inbound message in bytes; a larger one closes 1009. Default 64 KiB. */
  maxPayload?: number;
}

/** The bound address of a standalone server. */
export interface FetchServerAddress {
  readonly port: number;
  readonly hostname: string;
}

/** What the Bun and Deno adapters return besides their own `upgrade`. */
export interface FetchServerApi<TClient, TServer, TAuth>
  extends Omit<
    ServerCore<TClient, TServer, TAuth, Request>,
    "admit" | "accept" | "reportRejected" | "reportError" | "reportAcceptError"
  > {
  /** Whether `request` is for this server's path (to route requests between several handlers). */
  shouldHandle(request: Request): boolean;
  /** The standalone server's address; null with `noServer`. */
  address(): FetchServerAddress | null;
  /** Resolves once the standalone server listens (at once with `noServer`); rejects if it cannot. */
  readonly listening: Promise<void>;
  /** The transport-free core (for adapters and tests). */
  readonly core: ServerCore<TClient, TServer, TAuth, Request>;
}

/** The runtime global an adapter needs, or an `unsupported_runtime` error naming it. */
export function runtimeGlobal<T>(name: "Bun" | "Deno"): T {
  const found = (globalThis as Record<string, unknown>)[name];
  if (found === undefined) {
    throw new HeartlineError(
      ServerErrorCode.UnsupportedRuntime,
      `@heartline/server/${name.toLowerCase()} runs on ${name}: on Node, import createServer from "@heartline/server"`,
    );
  }
  return found as T;
}

/** Checks the adapter options; returns `maxPayload`. */
export function checkFetchOptions(
  options: Pick<FetchServerOptions<unknown, unknown, unknown>, "port" | "noServer" | "maxPayload">,
): number {
  if ((options.port !== undefined) === (options.noServer === true)) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      "give exactly one of `port` or `noServer: true`",
    );
  }
  const maxPayload = options.maxPayload ?? serverDefaults.maxPayload;
  if (!(maxPayload > 0)) {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "maxPayload must be positive");
  }
  return maxPayload;
}

/** Resolves after `ms`, or at once for a non-finite or zero bound (one timer per shutdown, not per connection). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (!(ms > 0) || !Number.isFinite(ms)) resolve();
    else setTimeout(resolve, ms);
  });
}

/**
 * The public API over `core`: `close` runs the core's shutdown (goodbye and
 * 1001 to everyone, bounded by `closeTimeoutMs`), then `stopListening`.
 */
export function fetchServerApi<TClient, TServer, TAuth>(
  core: ServerCore<TClient, TServer, TAuth, Request>,
  parts: {
    readonly path: string;
    readonly listening: Promise<void>;
    address(): FetchServerAddress | null;
    stopListening(): Promise<void>;
  },
): FetchServerApi<TClient, TServer, TAuth> {
  let closing: Promise<void> | undefined;
  return {
    core,
    listening: parts.listening,
    address: parts.address,
    shouldHandle: (request) => pathOf(targetOf(request.url)) === parts.path,
    close() {
      closing ??= (async () => {
        await core.close();
        await parts.stopListening();
      })();
      return closing;
    },
    get accepting() {
      return core.accepting;
    },
    broadcast: (data, filter) => core.broadcast(data, filter),
    connections: () => core.connections(),
    stats: () => core.stats(),
    on: (event, listener) => core.on(event, listener),
  };
}

// The part of the Bun and Deno adapters' `createServer` that does not depend
// on the runtime: option checks, the public API over the core, shutdown.
import { pathOf } from "../core/admission-order.js";
import { withCoreDelegates } from "../core/core-delegates.js";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import { type ServerCoreOptions, serverDefaults } from "../core/options.js";
import type { CloseOptions, ServerCore } from "../core/server-core.js";
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
    "admit" | "accept" | "abandon" | "reportRejected" | "reportError" | "reportAcceptError"
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

/**
 * Waits for `promise`, at most `ms` (no bound for a non-finite one; none at
 * all for 0). The timer is cleared as soon as either ends, so it never holds
 * the process open. One timer per shutdown, not per connection.
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  if (!Number.isFinite(ms)) {
    await promise;
    return;
  }
  if (!(ms > 0)) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
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
  return withCoreDelegates(core, {
    core,
    listening: parts.listening,
    address: parts.address,
    shouldHandle: (request: Request) => pathOf(targetOf(request.url)) === parts.path,
    close(options?: CloseOptions) {
      closing ??= (async () => {
        await core.close(options);
        await parts.stopListening();
      })();
      return closing;
    },
  });
}

import type { Admission } from "../core/admission-api.js";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import { serverDefaults } from "../core/options.js";
import { createServerCore } from "../core/server-core.js";
import {
  checkFetchOptions,
  type FetchServerApi,
  type FetchServerOptions,
  fetchServerApi,
  runtimeGlobal,
  settleWithin,
} from "../fetch/fetch-server.js";
import {
  admissionRequestOf,
  admitThen,
  asksForWebSocket,
  connectionInfoOf,
  invalidHandshake,
  refusalResponse,
  upgradeRequired,
  validHandshake,
} from "../fetch/fetch-upgrade.js";
import { type BunConnectionData, bunWebSocketHandler } from "./bun-transport.js";
import type { BunGlobal, BunServer, BunWebSocketHandler } from "./bun-types.js";

export type { BunConnectionData } from "./bun-transport.js";
export type { BunServer, BunServerWebSocket, BunWebSocketHandler } from "./bun-types.js";

/** `createServer` options on Bun: the core's, plus `port`/`host` or `noServer`, and `maxPayload`. */
export type BunServerOptions<
  TClient = unknown,
  TServer = unknown,
  TAuth = undefined,
> = FetchServerOptions<TClient, TServer, TAuth>;

/** What `createServer` returns on Bun. */
export interface HeartlineBunServer<TClient = unknown, TServer = unknown, TAuth = undefined>
  extends FetchServerApi<TClient, TServer, TAuth> {
  /**
   * For your own `Bun.serve`'s `fetch`: runs the upgrade checks and upgrades.
   * Resolves to undefined once upgraded (return that from `fetch`), or to
   * the refusal's `Response`. Never rejects.
   */
  upgrade(
    request: Request,
    server: BunServer,
  ): Response | undefined | Promise<Response | undefined>;
  /** Pass as `Bun.serve({ websocket })`: it carries every Heartline connection of that server. */
  readonly websocket: BunWebSocketHandler<BunConnectionData>;
}

/**
 * A Heartline server on Bun (`Bun.serve` and its `websocket` handlers):
 * standalone on `port`, or `noServer` inside your own `Bun.serve`.
 */
export function createServer<TClient = unknown, TServer = unknown, TAuth = undefined>(
  options: BunServerOptions<TClient, TServer, TAuth>,
): HeartlineBunServer<TClient, TServer, TAuth> {
  const bun = runtimeGlobal<BunGlobal>("Bun");
  const maxPayload = checkFetchOptions(options);
  const core = createServerCore(options);
  const path = options.path ?? serverDefaults.path;
  const closeTimeoutMs = options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs;
  const websocket = bunWebSocketHandler(
    maxPayload,
    (transport, info) => core.accept(transport, info as Parameters<typeof core.accept>[1]),
    (info) => core.abandon(info as Parameters<typeof core.accept>[1]),
  );

  const upgradeAdmitted = (
    request: Request,
    server: BunServer,
    admission: Admission<TAuth>,
  ): Response | undefined => {
    if (admission.kind === "abandoned") return undefined;
    if (admission.kind === "refused") return refusalResponse(admission);
    if (!validHandshake(request)) {
      core.abandon(admission);
      return invalidHandshake(core, admission.remoteAddress);
    }
    const data: BunConnectionData = {
      info: connectionInfoOf(request, admission),
      transport: undefined,
    };
    // Bun picks no subprotocol itself: the answer is the one admission chose.
    const headers: Record<string, string> =
      admission.protocol === "" ? {} : { "sec-websocket-protocol": admission.protocol };
    if (server.upgrade(request, { headers, data })) return undefined;
    // Not upgraded after all: the session admission opened goes back.
    core.abandon(admission);
    return invalidHandshake(core, admission.remoteAddress);
  };

  const upgrade = (
    request: Request,
    server: BunServer,
  ): Response | undefined | Promise<Response | undefined> =>
    admitThen(
      core,
      // The client gave up while `authenticate` ran: nobody is left to answer.
      admissionRequestOf(request, server.requestIP(request)?.address, () => request.signal.aborted),
      (admission) => upgradeAdmitted(request, server, admission),
    );

  let bunServer: BunServer | undefined;
  let listening: Promise<void> = Promise.resolve();
  if (options.port !== undefined) {
    try {
      bunServer = bun.serve<BunConnectionData>({
        port: options.port,
        ...(options.host === undefined ? {} : { hostname: options.host }),
        fetch: (request, server) =>
          asksForWebSocket(request) ? upgrade(request, server) : upgradeRequired(),
        websocket,
      });
    } catch (cause) {
      const error = new HeartlineError(ServerErrorCode.ListenFailed, String(cause), { cause });
      core.reportError(error);
      listening = Promise.reject(error);
      // Awaiting it is optional; the failure is also on the `error` event.
      listening.catch(() => {});
    }
  }

  const api = fetchServerApi(core, {
    path,
    listening,
    address: () =>
      bunServer?.port === undefined
        ? null
        : { port: bunServer.port, hostname: bunServer.hostname ?? "" },
    async stopListening() {
      if (bunServer === undefined) return;
      // Let the close frames already queued go out, then cut what is left after `closeTimeoutMs`.
      await settleWithin(Promise.resolve(bunServer.stop(false)), closeTimeoutMs);
      await bunServer.stop(true);
    },
  });
  return Object.assign(api, { upgrade, websocket });
}

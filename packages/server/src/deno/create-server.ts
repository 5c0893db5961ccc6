import type { Admission } from "../core/admission-api.js";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import { serverDefaults } from "../core/options.js";
import { createServerCore } from "../core/server-core.js";
import type { ConnectionInfo } from "../core/transport.js";
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
import { attachDenoSocket, DenoTransport } from "./deno-transport.js";
import type { DenoGlobal, DenoHttpServer, DenoServeHandlerInfo } from "./deno-types.js";

export type { DenoServeHandlerInfo } from "./deno-types.js";

/** `createServer` options on Deno: the core's, plus `port`/`host` or `noServer`, and `maxPayload`. */
export type DenoServerOptions<
  TClient = unknown,
  TServer = unknown,
  TAuth = undefined,
> = FetchServerOptions<TClient, TServer, TAuth>;

/** What `createServer` returns on Deno. */
export interface HeartlineDenoServer<TClient = unknown, TServer = unknown, TAuth = undefined>
  extends FetchServerApi<TClient, TServer, TAuth> {
  /**
   * For your own `Deno.serve` handler: runs the upgrade checks and upgrades.
   * Resolves to the `101` response (return it from the handler) or to the
   * refusal's. Never rejects. Call it before the handler's first `await`:
   * Deno lets `info.remoteAddr` be read only then.
   */
  upgrade(request: Request, info: DenoServeHandlerInfo): Response | Promise<Response>;
}

/** Seconds, for Deno's `idleTimeout`: its own ping, which stands in for `keepAliveIntervalMs`. */
function idleTimeoutOf(keepAliveIntervalMs: number | undefined): number {
  return keepAliveIntervalMs === undefined || keepAliveIntervalMs <= 0
    ? 0
    : Math.max(1, Math.ceil(keepAliveIntervalMs / 1000));
}

/**
 * A Heartline server on Deno (`Deno.serve` and `Deno.upgradeWebSocket`):
 * standalone on `port`, or `noServer` inside your own `Deno.serve`.
 */
export function createServer<TClient = unknown, TServer = unknown, TAuth = undefined>(
  options: DenoServerOptions<TClient, TServer, TAuth>,
): HeartlineDenoServer<TClient, TServer, TAuth> {
  const deno = runtimeGlobal<DenoGlobal>("Deno");
  const maxPayload = checkFetchOptions(options);
  const core = createServerCore(options);
  const path = options.path ?? serverDefaults.path;
  const closeTimeoutMs = options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs;
  // Off (0) unless keep-alive pings are asked for: Deno's default (120 s) would close a silent socket itself.
  const idleTimeout = idleTimeoutOf(options.keepAliveIntervalMs);
  const accept = (transport: DenoTransport, info: ConnectionInfo<unknown>) =>
    core.accept(transport, info as ConnectionInfo<TAuth>);
  // Upgraded but never opened (the client left): the session admission opened goes back.
  const abandon = (info: ConnectionInfo<unknown>) => core.abandon(info as ConnectionInfo<TAuth>);

  const upgradeAdmitted = (request: Request, admission: Admission<TAuth>): Response => {
    // Never without an `abandoned` check (below); nobody would be left to read an answer.
    if (admission.kind === "abandoned") return new Response(null, { status: 400 });
    if (admission.kind === "refused") return refusalResponse(admission);
    if (!validHandshake(request)) {
      core.abandon(admission);
      return invalidHandshake(core, admission.remoteAddress);
    }
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = deno.upgradeWebSocket(request, { idleTimeout });
    } catch {
      core.abandon(admission);
      return invalidHandshake(core, admission.remoteAddress);
    }
    // The subprotocol admission chose, set on the answer: Deno's own `protocol` option
    // splits the offer on ", " only, and refuses "heartline.v1,heartline.resume" (no space).
    if (admission.protocol !== "") {
      upgraded.response.headers.set("sec-websocket-protocol", admission.protocol);
    }
    const info = connectionInfoOf(request, admission) as ConnectionInfo<unknown>;
    attachDenoSocket(new DenoTransport(upgraded.socket, info, maxPayload, accept, abandon));
    return upgraded.response;
  };

  const upgrade = (request: Request, info: DenoServeHandlerInfo): Response | Promise<Response> =>
    admitThen(
      core,
      // No `abandoned` check: Deno's `request.signal` aborts once any response is sent (and warns
      // when read); an upgrade whose client left never opens, so it is neither accepted nor reported.
      admissionRequestOf(request, info.remoteAddr.hostname),
      (admission) => upgradeAdmitted(request, admission),
    );

  let denoServer: DenoHttpServer | undefined;
  let listening: Promise<void> = Promise.resolve();
  if (options.port !== undefined) {
    listening = new Promise<void>((resolve, reject) => {
      try {
        denoServer = deno.serve(
          {
            port: options.port!,
            ...(options.host === undefined ? {} : { hostname: options.host }),
            onListen: () => resolve(),
          },
          (request, info) =>
            asksForWebSocket(request) ? upgrade(request, info) : upgradeRequired(),
        );
      } catch (cause) {
        const error = new HeartlineError(ServerErrorCode.ListenFailed, String(cause), { cause });
        core.reportError(error);
        reject(error);
      }
    });
    // Awaiting it is optional; a failure is also on the `error` event.
    listening.catch(() => {});
  }

  const api = fetchServerApi(core, {
    path,
    listening,
    address: () =>
      denoServer === undefined
        ? null
        : { port: denoServer.addr.port, hostname: denoServer.addr.hostname },
    async stopListening() {
      // Deno's shutdown waits for open sockets; one whose peer never answers the close would hold it forever.
      if (denoServer !== undefined) await settleWithin(denoServer.shutdown(), closeTimeoutMs);
    },
  });
  return Object.assign(api, { upgrade });
}

import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
} from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { SUBPROTOCOL } from "@heartline/protocol";
import { WebSocketServer } from "ws";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import { UpgradeRejectReason } from "../core/events.js";
import { type ServerCoreOptions, serverDefaults } from "../core/options.js";
import { createServerCore, type ServerCore } from "../core/server-core.js";
import { originChecker, pathOf, refuseUpgrade, subprotocolAcceptable } from "./upgrade-checks.js";
import { attachSink } from "./ws-listeners.js";

/**
 * `createServer` options: the core's, plus how to attach and what to check
 * on the upgrade. Give exactly one of `server`, `port` or `noServer`.
 */
export interface ServerOptions<TClient = unknown, TServer = unknown, TAuth = undefined>
  extends ServerCoreOptions<TClient, TServer, TAuth> {
  /** Attach to this HTTP(S) server's `upgrade` event. */
  server?: HttpServer | HttpsServer;
  /** Listen on a port of its own (0: any free port; read it from `address()`). */
  port?: number;
  /** With `port`: the interface to listen on. Default: every interface. */
  host?: string;
  /** Attach nothing: a framework calls `handleUpgrade(req, socket, head)`. */
  noServer?: boolean;
  /** The only path upgrades are accepted on (404 elsewhere). Default "/ws". */
  path?: string;
  /** Largest inbound frame in bytes; a larger one closes 1009. Default 64 KiB. */
  maxPayload?: number;
  /** Origins allowed to connect (403 otherwise); absent `Origin` always passes. Default: all. */
  allowedOrigins?: readonly string[];
  /**
   * Decides whether an upgrade may proceed. Resolve to `false` to refuse
   * (401); any other value is accepted and attached as `conn.auth`. A throw
   * or rejection is a refusal too, and is reported on the `error` event.
   */
  authenticate?: (request: IncomingMessage) => TAuth | false | Promise<TAuth | false>;
}

/** What `createServer` returns: the core's API plus the `ws` adapter's. */
export interface HeartlineServer<TClient = unknown, TServer = unknown, TAuth = undefined>
  extends Omit<ServerCore<TClient, TServer, TAuth>, "accept" | "reportRejected" | "reportError"> {
  /**
   * Runs the upgrade checks and, if they pass, completes the WebSocket
   * handshake. For `noServer`; never rejects (refusals answer HTTP and are
   * reported on `upgradeRejected`).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** Whether `request` is for this server's path (to route upgrades between several handlers). */
  shouldHandle(request: IncomingMessage): boolean;
  /** The bound address: the standalone server's, or the attached server's; null with `noServer`. */
  address(): AddressInfo | string | null;
  /** Resolves once the standalone server listens (at once otherwise); rejects if it cannot. */
  readonly listening: Promise<void>;
  /** The transport-free core (for adapters and tests). */
  readonly core: ServerCore<TClient, TServer, TAuth>;
}

function onUpgradeSocketError(this: Duplex): void {
  this.destroy();
}

/**
 * A Heartline server on `ws`: attached to an HTTP server, standalone, or fed
 * upgrades by a framework.
 */
export function createServer<TClient = unknown, TServer = unknown, TAuth = undefined>(
  options: ServerOptions<TClient, TServer, TAuth>,
): HeartlineServer<TClient, TServer, TAuth> {
  const modes = [
    options.server !== undefined,
    options.port !== undefined,
    options.noServer === true,
  ];
  if (modes.filter(Boolean).length !== 1) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      "give exactly one of `server`, `port` or `noServer: true`",
    );
  }
  const core = createServerCore(options);
  const path = options.path ?? serverDefaults.path;
  const maxPayload = options.maxPayload ?? serverDefaults.maxPayload;
  if (!(maxPayload > 0)) {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "maxPayload must be positive");
  }
  const originAllowed = originChecker(options.allowedOrigins);
  const authenticate = options.authenticate;
  const closeTimeoutMs = options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
    // A server-initiated close (4400, 1001…) waits this long for the client's answer.
    closeTimeout: closeTimeoutMs,
    handleProtocols: (offered: Set<string>) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  } as ConstructorParameters<typeof WebSocketServer>[0]);

  const refuse = (
    request: IncomingMessage,
    socket: Duplex,
    status: number,
    reason: UpgradeRejectReason,
  ): void => {
    refuseUpgrade(socket, status, reason);
    core.reportRejected({ status, reason, remoteAddress: request.socket.remoteAddress });
  };

  // ws's own handshake checks (method, key, version): answer and report them like ours.
  wss.on("wsClientError", (error: Error, socket: Duplex, request: IncomingMessage) => {
    const status = error.message === "Invalid HTTP method" ? 405 : 400;
    refuse(request, socket, status, UpgradeRejectReason.InvalidHandshake);
  });

  const shouldHandle = (request: IncomingMessage): boolean => pathOf(request.url) === path;

  const handleUpgrade = async (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> => {
    socket.on("error", onUpgradeSocketError);
    if (!core.accepting) {
      refuse(request, socket, 503, UpgradeRejectReason.ServerClosing);
      return;
    }
    if (!shouldHandle(request)) {
      refuse(request, socket, 404, UpgradeRejectReason.NotFound);
      return;
    }
    if (!originAllowed(request.headers.origin)) {
      refuse(request, socket, 403, UpgradeRejectReason.OriginNotAllowed);
      return;
    }
    if (!subprotocolAcceptable(request.headers["sec-websocket-protocol"])) {
      refuse(request, socket, 400, UpgradeRejectReason.UnsupportedSubprotocol);
      return;
    }
    let auth = undefined as TAuth;
    if (authenticate !== undefined) {
      let result: TAuth | false;
      try {
        result = await authenticate(request);
      } catch (cause) {
        core.reportError(
          new HeartlineError(ServerErrorCode.AuthenticateThrew, "authenticate threw", { cause }),
        );
        result = false;
      }
      // The client may have given up, or the server begun closing, meanwhile.
      if (socket.destroyed) return;
      if (result === false) {
        refuse(request, socket, 401, UpgradeRejectReason.Unauthorized);
        return;
      }
      if (!core.accepting) {
        refuse(request, socket, 503, UpgradeRejectReason.ServerClosing);
        return;
      }
      auth = result;
    }
    socket.removeListener("error", onUpgradeSocketError);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const sink = core.accept(ws, {
        remoteAddress: request.socket.remoteAddress,
        auth,
        request,
      });
      attachSink(ws, sink);
    });
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void handleUpgrade(request, socket, head);
  };

  let httpServer: HttpServer | HttpsServer | undefined;
  let ownServer: HttpServer | undefined;
  let listening: Promise<void> = Promise.resolve();
  if (options.server !== undefined) {
    httpServer = options.server;
    httpServer.on("upgrade", onUpgrade);
  } else if (options.port !== undefined) {
    ownServer = createHttpServer((_request, response) => {
      response.writeHead(426, { "Content-Type": "text/plain; charset=utf-8" });
      response.end("Upgrade Required");
    });
    httpServer = ownServer;
    ownServer.on("upgrade", onUpgrade);
    const server = ownServer;
    listening = new Promise<void>((resolve, reject) => {
      const onError = (cause: Error): void => {
        const error = new HeartlineError(ServerErrorCode.ListenFailed, cause.message, { cause });
        core.reportError(error);
        reject(error);
      };
      server.once("error", onError);
      server.listen(options.port, options.host, () => {
        server.removeListener("error", onError);
        resolve();
      });
    });
    // Awaiting it is optional; a failure is also on the `error` event.
    listening.catch(() => {});
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      httpServer?.removeListener("upgrade", onUpgrade);
      const serverClosed =
        ownServer === undefined
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              ownServer!.close(() => resolve());
              ownServer!.closeIdleConnections();
            });
      await core.close();
      wss.close();
      await serverClosed;
    })();
    return closing;
  };

  return {
    core,
    handleUpgrade,
    shouldHandle,
    listening,
    address: () => httpServer?.address() ?? null,
    close,
    get accepting() {
      return core.accepting;
    },
    broadcast: (data, filter) => core.broadcast(data, filter),
    connections: () => core.connections(),
    stats: () => core.stats(),
    on: (event, listener) => core.on(event, listener),
  };
}

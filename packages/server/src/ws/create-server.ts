import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
} from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { CloseCode, DisconnectReason, parseSubprotocolOffer } from "@heartline/protocol";
import { WebSocketServer } from "ws";
import { pathOf, selectSubprotocol } from "../core/admission-order.js";
import { withCoreDelegates } from "../core/core-delegates.js";
import { HeartlineError, ServerErrorCode } from "../core/errors.js";
import type { RejectedRequest } from "../core/listeners.js";
import { type ServerCoreOptions, serverDefaults } from "../core/options.js";
import { type CloseOptions, type ServerCore, ServerCoreImpl } from "../core/server-core.js";
import { UpgradeRejectReason } from "../core/upgrade-rejection.js";
import { instrumentEventLoop } from "../metrics/event-loop.js";
import { refuseUpgrade } from "./upgrade-checks.js";
import { attachSink } from "./ws-listeners.js";

/**
 * `createServer` options: the core's (admission included: `path`,
 * `allowedOrigins`, `authenticate`, which is given the `IncomingMessage`),
 * plus how to attach. Give exactly one of `server`, `port` or `noServer`.
 */
export interface ServerOptions<TClient = unknown, TServer = unknown, TAuth = undefined>
  extends ServerCoreOptions<TClient, TServer, TAuth, IncomingMessage> {
  /** Attach to this HTTP(S) server's `upgrade` event. */
  server?: HttpServer | HttpsServer;
  /** Listen on a port of its own (0: any free port; read it from `address()`). */
  port?: number;
  /** With `port`: the interface to listen on. Default: every interface. */
  host?: string;
  /** Attach nothing: a framework calls `handleUpgrade(req, socket, head)`. */
  noServer?: boolean;
  /** Largest inbound frame in bytes; a larger one closes 1009. Default 64 KiB. */
  maxPayload?: number;
  /**
   * Standalone mode (`port`): the HTTP server's `headersTimeout` and
   * `requestTimeout`, in ms; an upgrade request whose headers are not in by
   * then is dropped. Node's own (60 s, 300 s) suit bodies, not a WebSocket
   * endpoint. With `server`, set them on your server. Default 10,000.
   */
  headersTimeoutMs?: number;
  /**
   * Answer an `authenticate` refusal (401, `authenticate_timeout` included)
   * by accepting the upgrade and closing at once with 4401 `unauthorized`
   * (no `welcome`, nothing read), so a browser, which sees a refused
   * upgrade only as 1006, can tell. Default false (plain 401). See the
   * README for the trade-off.
   */
  closeUnauthorized?: boolean;
}

/** What `createServer` returns: the core's API plus the `ws` adapter's. */
export interface HeartlineServer<TClient = unknown, TServer = unknown, TAuth = undefined>
  extends Omit<
    ServerCore<TClient, TServer, TAuth, IncomingMessage>,
    "admit" | "accept" | "abandon" | "reportRejected" | "reportError" | "reportAcceptError"
  > {
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
  readonly core: ServerCore<TClient, TServer, TAuth, IncomingMessage>;
}

const noop = (): void => {};

function onUpgradeSocketError(this: Duplex): void {
  this.destroy();
}

/** RFC 6455 §4.1: an opening handshake is an HTTP/1.1 (or later) GET with a `Host`. */
function wellFormedHandshake(request: IncomingMessage): boolean {
  const version = request.httpVersionMajor * 1000 + request.httpVersionMinor;
  const host = request.headers.host;
  return version >= 1001 && host !== undefined && host.trim() !== "";
}

/** What `upgradeRejected` is given about a request the adapter refused itself. */
function rejected(request: IncomingMessage): RejectedRequest {
  return {
    headers: request.headers,
    url: request.url,
    remoteAddress: request.socket.remoteAddress,
  };
}

/** Running out of descriptors, as `accept` reports it. */
function isDescriptorExhaustion(error: NodeJS.ErrnoException): boolean {
  return error.code === "EMFILE" || error.code === "ENFILE";
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
  // Checked here, not at listen time: a bad port would otherwise surface as an asynchronous `listen_failed`.
  const port = options.port;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      `port must be a whole number from 0 to 65535 (got ${JSON.stringify(port)})`,
    );
  }
  if (options.server !== undefined && typeof options.server.on !== "function") {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "server must be a node:http(s) server");
  }
  // The implementation, for its resolved options: the adapter reads `path`
  // and `closeTimeoutMs` as the core resolved (and checked) them.
  const impl = new ServerCoreImpl(options);
  const { path, closeTimeoutMs } = impl.options;
  const core: ServerCore<TClient, TServer, TAuth, IncomingMessage> = impl;
  const stopEventLoop = instrumentEventLoop(options.meterProvider);
  const maxPayload = options.maxPayload ?? serverDefaults.maxPayload;
  if (!(maxPayload > 0)) {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "maxPayload must be positive");
  }
  const closeUnauthorized = options.closeUnauthorized ?? serverDefaults.closeUnauthorized;
  if (typeof closeUnauthorized !== "boolean") {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "closeUnauthorized must be a boolean");
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
    // A server-initiated close (4400, 1001…) waits this long for the client's answer.
    closeTimeout: closeTimeoutMs,
    // Admission refused every other offer already (400); this only picks the answer.
    handleProtocols: (offered: Set<string>) =>
      selectSubprotocol(parseSubprotocolOffer(offered)) || false,
    // Pings are answered in control-pings.ts, so a ping flood ends with a close frame (1008), not a cut socket.
    autoPong: false,
  } as ConstructorParameters<typeof WebSocketServer>[0]);

  // ws's own handshake checks (method, key, version): answer and report them like the core's.
  wss.on("wsClientError", (_error: Error, socket: Duplex, request: IncomingMessage) => {
    // By the request, not by ws's message text: ws refuses a method other than GET with 405.
    const status = request.method !== "GET" ? 405 : 400;
    const reason = UpgradeRejectReason.InvalidHandshake;
    refuseUpgrade(socket, status, reason, undefined, status === 405 ? "Allow: GET\r\n" : "");
    core.reportRejected(
      { status, reason, remoteAddress: request.socket.remoteAddress },
      rejected(request),
    );
  });

  const shouldHandle = (request: IncomingMessage): boolean => pathOf(request.url) === path;
  const waitsOnAuthenticate = options.authenticate !== undefined;

  /**
   * A refusal a browser can read: the handshake completes (answering
   * `heartline.v1`, never the credentials offer), then a close frame 4401
   * at once. No `welcome`, no listener for what the client sends; the socket
   * is gone once the client answers the close, or `closeTimeoutMs` after.
   * Already reported on `upgradeRejected` (401) by admission.
   */
  const closeWith4401 = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.removeListener("error", onUpgradeSocketError);
    wss.handleUpgrade(request, socket, head, (ws) => {
      // No 'error' listener would make a late socket error throw.
      ws.on("error", noop);
      ws.close(CloseCode.Unauthorized, DisconnectReason.Unauthorized);
      // Paused while `authenticate` ran: flowing again, so the client's close frame is read.
      if (socket.isPaused()) socket.resume();
    });
  };

  const handleUpgrade = async (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> => {
    socket.on("error", onUpgradeSocketError);
    if (!wellFormedHandshake(request)) {
      // Before the upgrade checks: not a WebSocket handshake at all (HTTP/1.0, or no Host).
      const reason = UpgradeRejectReason.InvalidHandshake;
      refuseUpgrade(socket, 400, reason);
      core.reportRejected(
        { status: 400, reason, remoteAddress: request.socket.remoteAddress },
        rejected(request),
      );
      return;
    }
    // With `authenticate` (the one asynchronous check), a signal that aborts
    // when the client leaves meanwhile; without it nothing is made per upgrade.
    const left = waitsOnAuthenticate ? new AbortController() : undefined;
    let admission = core.admit({
      headers: request.headers,
      url: request.url,
      remoteAddress: request.socket.remoteAddress,
      raw: request,
      signal: left?.signal,
    });
    // Awaited only when a check was asynchronous: without `authenticate` the handshake goes on in this turn.
    if (admission instanceof Promise) {
      const onGone = (): void => left?.abort();
      // A paused socket never sees the client's FIN: read while the check
      // runs, so a client that leaves is noticed now, keeping what arrives
      // (at most maxPayload bytes) for `ws` to read after the upgrade.
      const early: Buffer[] = [];
      let earlyBytes = 0;
      const onData = (chunk: Buffer): void => {
        earlyBytes += chunk.length;
        if (earlyBytes > maxPayload) socket.destroy();
        else early.push(chunk);
      };
      socket.on("data", onData);
      socket.once("end", onGone);
      socket.once("close", onGone);
      if (socket.destroyed) onGone();
      admission = await admission;
      socket.removeListener("data", onData);
      socket.removeListener("end", onGone);
      socket.removeListener("close", onGone);
      socket.pause();
      if (early.length > 0) socket.unshift(Buffer.concat(early));
    }
    if (admission.kind === "abandoned") {
      // The client left: our half of the socket goes too.
      socket.destroy();
      return;
    }
    if (admission.kind === "refused") {
      if (admission.status === 401 && closeUnauthorized) closeWith4401(request, socket, head);
      else refuseUpgrade(socket, admission.status, admission.reason, admission.retryAfterSeconds);
      return;
    }
    const { auth, resume } = admission;
    socket.removeListener("error", onUpgradeSocketError);
    let reached = false;
    wss.handleUpgrade(request, socket, head, (ws) => {
      reached = true;
      const sink = core.accept(ws, {
        remoteAddress: admission.remoteAddress,
        auth,
        request,
        resume,
      });
      attachSink(ws, sink, socket);
      // Paused while an asynchronous check ran (an explicit pause is not
      // undone by ws's own `data` listener): flowing again, early bytes first.
      if (socket.isPaused()) socket.resume();
    });
    // `ws` completes the handshake in this turn, or never: it drops a socket
    // the client already closed (or one its own checks refuse) without
    // calling back. The session admission opened for it goes back then.
    if (!reached) core.abandon(admission);
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
    const headersTimeoutMs = options.headersTimeoutMs ?? serverDefaults.headersTimeoutMs;
    if (!(headersTimeoutMs > 0) || !Number.isFinite(headersTimeoutMs)) {
      throw new HeartlineError(ServerErrorCode.InvalidOption, "headersTimeoutMs must be positive");
    }
    ownServer = createHttpServer(
      {
        headersTimeout: headersTimeoutMs,
        // No request here has a body: the whole request is its headers.
        requestTimeout: headersTimeoutMs,
        // Node checks those timeouts on this period (30 s by default): keep it well under them.
        connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
      },
      (_request, response) => {
        response.writeHead(426, { "Content-Type": "text/plain; charset=utf-8" });
        response.end("Upgrade Required");
      },
    );
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
        // From now on an error is an accept failing: never a crash, reported like any other.
        server.on("error", (cause: NodeJS.ErrnoException) => {
          if (isDescriptorExhaustion(cause)) core.reportAcceptError(cause);
          else
            core.reportError(
              new HeartlineError(ServerErrorCode.TransportError, cause.message, { cause }),
            );
        });
        resolve();
      });
    });
    // Awaiting it is optional; a failure is also on the `error` event.
    listening.catch(() => {});
  }

  let closing: Promise<void> | undefined;
  const close = (closeOptions?: CloseOptions): Promise<void> => {
    closing ??= (async () => {
      // The core refuses every upgrade from now on (503 + Retry-After), the
      // drain and the goodbye included: the listener and the standalone
      // server stay until it is done, so those refusals are answered rather
      // than cut (node:http destroys an upgrade nobody listens for).
      await core.close(closeOptions);
      stopEventLoop();
      httpServer?.removeListener("upgrade", onUpgrade);
      wss.close();
      if (ownServer !== undefined) {
        const server = ownServer;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }
    })();
    return closing;
  };

  return withCoreDelegates(core, {
    core,
    handleUpgrade,
    shouldHandle,
    listening,
    address: () => httpServer?.address() ?? null,
    close,
  });
}

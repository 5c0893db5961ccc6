import type { IncomingMessage } from "node:http";
import { type Clock, rethrowLater } from "@heartline/protocol";
import type { HeartlineServer, ServerCore } from "@heartline/server";

/** Every default, in one frozen object (the README documents each). */
export const dashboardDefaults = Object.freeze({
  /** One sample a second while someone watches. */
  sampleIntervalMs: 1000,
  /** Rows per page of the connections table. */
  pageSize: 50,
  /** The most rows one request may ask for. */
  maxPageSize: 500,
});

// biome-ignore lint/suspicious/noExplicitAny: any message and auth types will do.
type AnyServer = HeartlineServer<any, any, any> | ServerCore<any, any, any>;

/** The options of `createDashboard`; defaults in `dashboardDefaults`. */
export interface DashboardOptions {
  /** The server to watch: `createServer`'s result or a core. */
  server: AnyServer;
  /**
   * Decides every request (the page, its assets, the live stream, the table):
   * resolve `true` to serve it, anything else answers 403. Required: the page
   * shows session ids and client addresses. A throw or rejection is a 403
   * too, and goes to `onError`.
   */
  authorize: (request: IncomingMessage) => boolean | Promise<boolean>;
  /** How often a sample is taken while at least one viewer is connected. Default 1000. */
  sampleIntervalMs?: number;
  /** Rows per page of the connections table. Default 50. */
  pageSize?: number;
  /** The server's clock (for "connected for" and "last heard"). Default the real one. */
  clock?: Clock;
  /**
   * Where an `authorize` that threw is reported. Default: rethrown on a
   * microtask, so the platform's uncaught-exception handling sees it.
   */
  onError?: (error: unknown) => void;
}

export interface ResolvedDashboardOptions {
  readonly server: AnyServer;
  readonly authorize: DashboardOptions["authorize"];
  readonly sampleIntervalMs: number;
  readonly pageSize: number;
  readonly clock: Clock;
  readonly onError: (error: unknown) => void;
}

/** Thrown by `createDashboard` for a missing `authorize` or a bad option (code `invalid_option`). */
export class DashboardError extends Error {
  readonly code = "invalid_option";
}

export function resolveDashboardOptions(
  options: DashboardOptions,
  systemClock: Clock,
): ResolvedDashboardOptions {
  if (typeof options.authorize !== "function") {
    throw new DashboardError("authorize(request) is required: the page shows who is connected");
  }
  const sampleIntervalMs = options.sampleIntervalMs ?? dashboardDefaults.sampleIntervalMs;
  if (!(sampleIntervalMs > 0) || !Number.isFinite(sampleIntervalMs)) {
    throw new DashboardError("sampleIntervalMs must be a positive number");
  }
  const pageSize = options.pageSize ?? dashboardDefaults.pageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > dashboardDefaults.maxPageSize) {
    throw new DashboardError(
      `pageSize must be an integer from 1 to ${dashboardDefaults.maxPageSize}`,
    );
  }
  return {
    server: options.server,
    authorize: options.authorize,
    sampleIntervalMs,
    pageSize,
    clock: options.clock ?? systemClock,
    // The shared policy's last resort: never swallowed.
    onError: options.onError ?? rethrowLater,
  };
}

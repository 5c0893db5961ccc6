import {
  type Clock,
  type HeartlineProtocol,
  type ReconnectWindow,
  systemClock,
} from "@heartline/protocol";
import type { MetricsOptions } from "../metrics/options.js";
import type { AdmissionOptions, UpgradeRequest } from "./admission-api.js";
import { SERVER_EVENTS, type ServerListeners } from "./listeners.js";
import {
  checkAllowedOrigins,
  checkClock,
  checkListeners,
  checkMeterProvider,
  checkPath,
  checkProtocol,
  invalid,
  optionalFunction,
  optionalObject,
} from "./option-checks.js";
import { resumeDefaults } from "./resume/defaults.js";
import {
  type ResolvedResumeOptions,
  type ResumeOptions,
  resolveResumeOptions,
} from "./resume/options.js";

/**
 * A token bucket: `burst` at once, refilled at `perSecond` (frames for
 * `rateLimit`, bytes for `byteRateLimit`; one policy, in rate-limit.ts).
 */
export interface RateLimit {
  readonly burst: number;
  readonly perSecond: number;
}

/**
 * Every default, in one frozen object (the README documents each).
 * `timeoutMs` is 2 × `intervalMs` unless given: set only `intervalMs` and
 * the timeout follows it.
 */
export const serverDefaults = Object.freeze({
  path: "/ws",
  intervalMs: 15_000,
  /** 2 × intervalMs. */
  timeoutMs: 30_000,
  /** Transport-level pings off: the client's own pings already keep proxies busy. */
  keepAliveIntervalMs: 0,
  maxPayload: 64 * 1024,
  /**
   * 200 frames at once, 50 per second sustained, announced in `welcome` as
   * `rate`. A client pinging every 15 s uses 0.07 per second; the bound is
   * for runaway or hostile clients. The burst is twice the client's default
   * outbox (`clientDefaults.outbox.maxMessages`, 100): a client on defaults
   * that flushes a full outbox at once (a client that cannot pace: one that
   * predates `welcome.rate`, or another implementation), with its ping and
   * the acks it owes, still fits with room for frames bunched by the
   * network, so the two sides' defaults never collide. A client that paces
   * itself (ours) keeps to half of it.
   */
  rateLimit: Object.freeze({ burst: 200, perSecond: 50 }) as RateLimit,
  maxBufferedBytes: 1024 * 1024,
  /**
   * Inbound bytes (UTF-16 code units of each text frame: bytes for ASCII
   * JSON): 1 MiB at once, 256 KiB per second sustained. Sixteen full 64 KiB
   * frames in a burst, four a second after that: far above any heartbeat or
   * chat client, and a twelfth of what the frame budget alone lets through
   * (50 × 64 KiB = 3.2 MB/s).
   */
  byteRateLimit: Object.freeze({ burst: 1024 * 1024, perSecond: 256 * 1024 }) as RateLimit,
  /**
   * Outbound bytes queued across every connection: 64 MiB. 64 clients that
   * never read, at the per-connection 1 MiB each, then the next one written
   * to while it holds a backlog is shed (1013). Connections whose socket
   * takes what is written (every healthy one) are never shed by it.
   */
  maxBufferedBytesTotal: 64 * 1024 * 1024,
  /** Off: size it below the process's descriptor limit (README, "Security"). */
  maxConnections: Number.POSITIVE_INFINITY,
  /** Off: behind a proxy, name the client's address with `addressOf`. */
  maxConnectionsPerAddress: Number.POSITIVE_INFINITY,
  /**
   * 10 s: a session or token lookup takes milliseconds; a hook still pending
   * after 10 s is stuck, and each waiting upgrade holds a socket.
   */
  authenticateTimeoutMs: 10_000,
  /** Wide enough that 10,000 clients come back at about 1,100 per second, not all at once. */
  reconnectWindow: Object.freeze({ minMs: 1000, maxMs: 10_000 }) as ReconnectWindow,
  closeTimeoutMs: 5000,
  /** The values `resume` uses when it is on (it is off unless given): `resumeDefaults`. */
  resume: resumeDefaults,
  /** Standalone mode's HTTP `headersTimeout`/`requestTimeout`: 10 s, ample for a handshake's headers. */
  headersTimeoutMs: 10_000,
  /** Off: an `authenticate` refusal is an HTTP 401, which a browser cannot read (README, "Telling a browser 401"). */
  closeUnauthorized: false,
});

/**
 * Options of the transport-free core (the `ws` adapter adds the HTTP side).
 * `TRequest` is what `authenticate` is given: the adapter's request object.
 */
export interface ServerCoreOptions<
  TClient = unknown,
  TServer = unknown,
  TAuth = unknown,
  TRequest = UpgradeRequest,
> extends AdmissionOptions<TAuth, TRequest>,
    // Metrics (issue 16): `meterProvider`, declared and documented in ../metrics/instrument.ts.
    MetricsOptions {
  /** X: the ping interval announced in `welcome`. Default 15,000. */
  intervalMs?: number;
  /** Silence after which a client is closed with 4000 and reported `timeout`. Default 2 × intervalMs. */
  timeoutMs?: number;
  /** WebSocket ping frames to every connection every N ms, in one shared sweep; 0 disables. Default 0. */
  keepAliveIntervalMs?: number;
  /** The application's message schemas (`defineProtocol`). */
  protocol?: HeartlineProtocol<TClient, TServer>;
  /** Per-connection frame budget, announced in `welcome.rate`; `false`, or `perSecond` 0 or Infinity, disables. Default 200 burst, 50/s. */
  rateLimit?: RateLimit | false;
  /** Inbound byte budget per connection, beside `rateLimit`; over it: close 4429, `rate_limited`. `false` disables. Default 1 MiB burst, 256 KiB/s. */
  byteRateLimit?: RateLimit | false;
  /** Outbound bytes a connection may have queued; past it: close 1013, `server_closed`. Infinity disables. Default 1 MiB. */
  maxBufferedBytes?: number;
  /**
   * Outbound bytes queued across all connections; a connection written to
   * while it holds a backlog and the total is reached is shed (1013,
   * `server_closed`). Infinity disables. Default 64 MiB.
   */
  maxBufferedBytesTotal?: number;
  /** The `goodbye` window sent on shutdown. Default { minMs: 1000, maxMs: 10_000 }. */
  reconnectWindow?: ReconnectWindow;
  /** How long `close()` waits for clients to finish closing before destroying sockets. Default 5000. */
  closeTimeoutMs?: number;
  /** Where every timer and timestamp comes from. Default the real clock. */
  clock?: Clock;
  /** Session id per connection. Default Web Crypto's `crypto.randomUUID()`. */
  generateSessionId?: () => string;
  /**
   * Resumable sessions (PROTOCOL.md, "Resumable sessions"): `false` or
   * absent is off (plain v1; resume offers ignored); an object turns them on,
   * each field defaulting to `resumeDefaults`.
   */
  resume?: false | ResumeOptions<TAuth>;
  /** Listeners registered before the first event can fire. */
  on?: Partial<ServerListeners<TClient, TServer, TAuth>>;
}

/** The options with every default filled in, as the core reads them. */
export interface ResolvedCoreOptions {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly keepAliveIntervalMs: number;
  readonly rateLimit: RateLimit | undefined;
  readonly byteRateLimit: RateLimit | undefined;
  readonly maxBufferedBytes: number;
  readonly maxBufferedBytesTotal: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly authenticateTimeoutMs: number;
  /** `Retry-After` on a capacity refusal: the `goodbye` window's end, in whole seconds (≥ 1). */
  readonly retryAfterSeconds: number;
  readonly reconnectWindow: ReconnectWindow;
  readonly closeTimeoutMs: number;
  readonly clock: Clock;
  /** Makes each connection's session id. */
  readonly generateSessionId: () => string;
  /** Undefined when resumption is off. */
  readonly resume: ResolvedResumeOptions | undefined;
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) invalid(`${name} must be a positive number`);
  return value;
}

function positiveOrInfinity(name: string, value: number): number {
  if (!(value > 0)) invalid(`${name} must be a positive number or Infinity`);
  return value;
}

/** A whole number ≥ 1, or Infinity (off). */
function countOrInfinity(name: string, value: number): number {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1))) {
    invalid(`${name} must be a whole number ≥ 1 or Infinity`);
  }
  return value;
}

/**
 * A token bucket, or undefined when off (`false`, `perSecond` 0 or
 * Infinity). `burst` is at least 1: a bucket that cannot hold one frame
 * would refuse every frame.
 */
function bucket(name: string, limit: RateLimit | false): RateLimit | undefined {
  if (limit === false) return undefined;
  optionalObject(name, limit);
  if (limit === null) invalid(`${name} must be an object or false`);
  if (!(limit.perSecond >= 0)) invalid(`${name}.perSecond must be 0 or more`);
  if (limit.perSecond === 0 || !Number.isFinite(limit.perSecond)) return undefined;
  if (!(limit.burst >= 1) || !Number.isFinite(limit.burst)) {
    invalid(`${name}.burst must be a number ≥ 1`);
  }
  return limit;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || Number.isNaN(value)) invalid(`${name} must be 0 or more`);
  return value;
}

/** The platform's Web Crypto (Node ≥ 19, browsers, Bun, Deno, workers): no `node:` import. */
function randomUUID(): string {
  return globalThis.crypto.randomUUID();
}

/** The options that are functions, objects or strings: named in the error when wrong. */
function checkShapes<TClient, TServer, TAuth, TRequest>(
  options: ServerCoreOptions<TClient, TServer, TAuth, TRequest>,
): void {
  optionalObject("options", options);
  checkAllowedOrigins(options.allowedOrigins);
  optionalFunction("authenticate", options.authenticate);
  optionalFunction("addressOf", options.addressOf);
  optionalFunction("generateSessionId", options.generateSessionId);
  checkProtocol(options.protocol);
  checkMeterProvider(options.meterProvider);
  checkClock(options.clock);
  checkListeners(options.on, SERVER_EVENTS);
}

export function resolveCoreOptions<TClient, TServer, TAuth, TRequest>(
  options: ServerCoreOptions<TClient, TServer, TAuth, TRequest>,
): ResolvedCoreOptions {
  checkShapes(options);
  const intervalMs = positive("intervalMs", options.intervalMs ?? serverDefaults.intervalMs);
  const timeoutMs = positive("timeoutMs", options.timeoutMs ?? 2 * intervalMs);
  if (!(timeoutMs > intervalMs)) {
    // A client pings every intervalMs: at or below it, a healthy client is closed for silence.
    invalid(`timeoutMs (${timeoutMs}) must be greater than intervalMs (${intervalMs})`);
  }
  const window = options.reconnectWindow ?? serverDefaults.reconnectWindow;
  optionalObject("reconnectWindow", window);
  nonNegative("reconnectWindow.minMs", window.minMs);
  if (!(window.maxMs >= window.minMs)) invalid("reconnectWindow.maxMs must be ≥ minMs");
  const rateLimit = bucket("rateLimit", options.rateLimit ?? serverDefaults.rateLimit);
  const byteRateLimit = bucket(
    "byteRateLimit",
    options.byteRateLimit ?? serverDefaults.byteRateLimit,
  );
  return {
    path: checkPath(options.path ?? serverDefaults.path),
    intervalMs,
    timeoutMs,
    keepAliveIntervalMs: nonNegative(
      "keepAliveIntervalMs",
      options.keepAliveIntervalMs ?? serverDefaults.keepAliveIntervalMs,
    ),
    rateLimit,
    byteRateLimit,
    maxBufferedBytes: positiveOrInfinity(
      "maxBufferedBytes",
      options.maxBufferedBytes ?? serverDefaults.maxBufferedBytes,
    ),
    maxBufferedBytesTotal: positiveOrInfinity(
      "maxBufferedBytesTotal",
      options.maxBufferedBytesTotal ?? serverDefaults.maxBufferedBytesTotal,
    ),
    maxConnections: countOrInfinity(
      "maxConnections",
      options.maxConnections ?? serverDefaults.maxConnections,
    ),
    maxConnectionsPerAddress: countOrInfinity(
      "maxConnectionsPerAddress",
      options.maxConnectionsPerAddress ?? serverDefaults.maxConnectionsPerAddress,
    ),
    authenticateTimeoutMs: positiveOrInfinity(
      "authenticateTimeoutMs",
      options.authenticateTimeoutMs ?? serverDefaults.authenticateTimeoutMs,
    ),
    retryAfterSeconds: Math.max(1, Math.ceil(window.maxMs / 1000)),
    reconnectWindow: Object.freeze({ minMs: window.minMs, maxMs: window.maxMs }),
    closeTimeoutMs: nonNegative(
      "closeTimeoutMs",
      options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs,
    ),
    clock: options.clock ?? systemClock,
    generateSessionId: options.generateSessionId ?? randomUUID,
    resume: resolveResumeOptions(options.resume),
  };
}

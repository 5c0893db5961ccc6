// The demo's settings, read from the environment. Kept apart from the server
// so the tests can check the parsing and start the server with plain options.
import type { ReconnectWindow } from "@heartline/protocol";
import type { TrustProxy } from "@heartline/server";

/** Every default of the demo, documented in examples/echo/README.md. */
export const echoDefaults = Object.freeze({
  port: 5000,
  /** Loopback: the demo is not reachable from other machines unless HOST says so. */
  host: "127.0.0.1",
  /** X, the client's ping interval; the server's timeout is 2X. */
  intervalMs: 5000,
  /**
   * How long the server keeps a dropped client's session resumable (the
   * server's `resume.windowMs`); 0 turns resumption off (plain v1).
   */
  resumeWindowMs: 120_000,
  /** Transport-level pings off (the server's default); behind a proxy see README, "Behind a reverse proxy". */
  keepAliveIntervalMs: 0,
  /** How long SIGTERM keeps clients while refusing new upgrades (503) before the goodbye. */
  drainMs: 0,
  /** OpenTelemetry's `service.name` (`OTEL_SERVICE_NAME`). */
  serviceName: "heartline-echo",
  /** The shortest `OPS_TOKEN` accepted. */
  minOpsTokenLength: 16,
});

export interface EchoSettings {
  port: number;
  host: string;
  intervalMs: number;
  /** `undefined`: only the page's own origin (the same origin); `"*"`: every origin. */
  allowedOrigins: string[] | "*" | undefined;
  /** `undefined`: no limit. */
  maxConnections: number | undefined;
  /** `undefined`: no limit. */
  maxConnectionsPerAddress: number | undefined;
  /** The `goodbye` window on shutdown; `undefined`: the server's default. */
  reconnectWindow: ReconnectWindow | undefined;
  /** The resume window; 0: resumption off. */
  resumeWindowMs: number;
  /** `false`: no proxy trusted (forwarded headers ignored). */
  trustProxy: TrustProxy;
  /** 0: off. */
  keepAliveIntervalMs: number;
  /** `undefined`: /metrics and /dashboard/ are off (404). */
  opsToken: string | undefined;
  drainMs: number;
  serviceName: string;
  /** `undefined`: sessions and presence in this process's memory (the default). */
  redisUrl: string | undefined;
  /** This process's id among the demos sharing `redisUrl`; `undefined`: hostname, pid and a random suffix. */
  nodeId: string | undefined;
}

export class EchoSettingsError extends Error {
  readonly code = "invalid_setting";
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new EchoSettingsError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function limit(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? undefined : integer(env, name, 0, 1);
}

/** TRUST_PROXY: unset, `false` or `0` off; a whole number: that many proxy hops; else proxy addresses (`loopback`, IPs, IPv4 CIDR), comma-separated. */
function trustProxy(env: NodeJS.ProcessEnv): TrustProxy {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === "" || raw === "false" || raw === "0") return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  const addresses = raw
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  if (addresses.some((a) => !/^(loopback|[0-9a-fA-F.:]+(\/\d{1,2})?)$/.test(a))) {
    throw new EchoSettingsError(
      `TRUST_PROXY must be a hop count or proxy addresses (loopback, IPs, a.b.c.d/n), got ${JSON.stringify(raw)}`,
    );
  }
  return addresses;
}

/** REDIS_URL: unset or empty off; else a `redis://` or `rediss://` URL. */
function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(raw)) {
    throw new EchoSettingsError(
      `REDIS_URL must be a redis:// or rediss:// URL, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

function opsToken(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.OPS_TOKEN?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (raw.length < echoDefaults.minOpsTokenLength) {
    throw new EchoSettingsError(
      `OPS_TOKEN must be at least ${echoDefaults.minOpsTokenLength} characters (e.g. \`openssl rand -hex 16\`)`,
    );
  }
  return raw;
}

/**
 * PORT, HOST, HEARTBEAT_INTERVAL_MS, ALLOWED_ORIGINS (comma-separated; `*`
 * lets every origin in; unset means the same origin only),
 * MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS (unset: no limit),
 * RECONNECT_WINDOW_MIN_MS / RECONNECT_WINDOW_MAX_MS (the `goodbye` window,
 * both or neither), RESUME_WINDOW_MS (0 turns resumption off), TRUST_PROXY,
 * KEEPALIVE_INTERVAL_MS, OPS_TOKEN (turns /metrics and /dashboard/ on, behind
 * it), DRAIN_MS, OTEL_SERVICE_NAME, REDIS_URL (sessions and presence in
 * Redis, shared by every demo on it) and NODE_ID. Throws
 * `EchoSettingsError` on a bad value.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): EchoSettings {
  const host = env.HOST?.trim();
  const origins = env.ALLOWED_ORIGINS?.split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  const windowSet =
    env.RECONNECT_WINDOW_MIN_MS !== undefined || env.RECONNECT_WINDOW_MAX_MS !== undefined;
  return {
    port: integer(env, "PORT", echoDefaults.port, 0),
    host: host === undefined || host === "" ? echoDefaults.host : host,
    intervalMs: integer(env, "HEARTBEAT_INTERVAL_MS", echoDefaults.intervalMs, 1),
    allowedOrigins:
      origins === undefined || origins.length === 0
        ? undefined
        : origins.includes("*")
          ? "*"
          : origins,
    maxConnections: limit(env, "MAX_CONNECTIONS"),
    maxConnectionsPerAddress: limit(env, "MAX_CONNECTIONS_PER_ADDRESS"),
    reconnectWindow: windowSet
      ? {
          minMs: integer(env, "RECONNECT_WINDOW_MIN_MS", 0, 0),
          maxMs: integer(env, "RECONNECT_WINDOW_MAX_MS", 0, 0),
        }
      : undefined,
    resumeWindowMs: integer(env, "RESUME_WINDOW_MS", echoDefaults.resumeWindowMs, 0),
    trustProxy: trustProxy(env),
    keepAliveIntervalMs: integer(env, "KEEPALIVE_INTERVAL_MS", echoDefaults.keepAliveIntervalMs, 0),
    opsToken: opsToken(env),
    drainMs: integer(env, "DRAIN_MS", echoDefaults.drainMs, 0),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || echoDefaults.serviceName,
    redisUrl: redisUrl(env),
    nodeId: env.NODE_ID?.trim() || undefined,
  };
}

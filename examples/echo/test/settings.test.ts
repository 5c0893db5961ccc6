import { describe, expect, it } from "vitest";
import { EchoSettingsError, echoDefaults, settingsFromEnv } from "../settings.js";

describe("settingsFromEnv", () => {
  it("uses the documented defaults when nothing is set", () => {
    expect(settingsFromEnv({})).toEqual({
      port: echoDefaults.port,
      host: echoDefaults.host,
      intervalMs: echoDefaults.intervalMs,
      allowedOrigins: undefined,
      maxConnections: undefined,
      maxConnectionsPerAddress: undefined,
      reconnectWindow: undefined,
      resumeWindowMs: echoDefaults.resumeWindowMs,
      trustProxy: false,
      keepAliveIntervalMs: 0,
      opsToken: undefined,
      drainMs: 0,
      serviceName: "heartline-echo",
      redisUrl: undefined,
      nodeId: undefined,
    });
    expect(echoDefaults).toMatchObject({ port: 5000, host: "127.0.0.1", resumeWindowMs: 120_000 });
    expect(Object.isFrozen(echoDefaults)).toBe(true);
  });

  it("reads every variable", () => {
    expect(
      settingsFromEnv({
        PORT: "0",
        HOST: "0.0.0.0",
        HEARTBEAT_INTERVAL_MS: "250",
        ALLOWED_ORIGINS: " http://localhost:5000 , http://127.0.0.1:5000,",
        RECONNECT_WINDOW_MIN_MS: "0",
        RECONNECT_WINDOW_MAX_MS: "100",
        RESUME_WINDOW_MS: "30000",
        MAX_CONNECTIONS: "20",
        MAX_CONNECTIONS_PER_ADDRESS: "5",
        TRUST_PROXY: "1",
        KEEPALIVE_INTERVAL_MS: "30000",
        OPS_TOKEN: "0123456789abcdef",
        DRAIN_MS: "5000",
        OTEL_SERVICE_NAME: "echo-eu-1",
        REDIS_URL: "redis://127.0.0.1:6379",
        NODE_ID: "echo-1",
      }),
    ).toEqual({
      port: 0,
      host: "0.0.0.0",
      intervalMs: 250,
      allowedOrigins: ["http://localhost:5000", "http://127.0.0.1:5000"],
      maxConnections: 20,
      maxConnectionsPerAddress: 5,
      reconnectWindow: { minMs: 0, maxMs: 100 },
      resumeWindowMs: 30_000,
      trustProxy: 1,
      keepAliveIntervalMs: 30_000,
      opsToken: "0123456789abcdef",
      drainMs: 5000,
      serviceName: "echo-eu-1",
      redisUrl: "redis://127.0.0.1:6379",
      nodeId: "echo-1",
    });
  });

  it("refuses a REDIS_URL that is not a redis:// URL", () => {
    expect(() => settingsFromEnv({ REDIS_URL: "localhost:6379" })).toThrow(EchoSettingsError);
    expect(settingsFromEnv({ REDIS_URL: " " }).redisUrl).toBeUndefined();
  });

  it("reads TRUST_PROXY as off, a hop count, or proxy addresses", () => {
    expect(settingsFromEnv({ TRUST_PROXY: "0" }).trustProxy).toBe(false);
    expect(settingsFromEnv({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(settingsFromEnv({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(settingsFromEnv({ TRUST_PROXY: "loopback, 10.0.0.0/8,::1" }).trustProxy).toEqual([
      "loopback",
      "10.0.0.0/8",
      "::1",
    ]);
    expect(() => settingsFromEnv({ TRUST_PROXY: "yes please" })).toThrow(EchoSettingsError);
  });

  it("refuses an OPS_TOKEN shorter than 16 characters", () => {
    expect(() => settingsFromEnv({ OPS_TOKEN: "short" })).toThrow(/at least 16/);
  });

  it("reads RESUME_WINDOW_MS=0 as resumption off, and an empty one as the default", () => {
    expect(settingsFromEnv({ RESUME_WINDOW_MS: "0" }).resumeWindowMs).toBe(0);
    expect(settingsFromEnv({ RESUME_WINDOW_MS: " " }).resumeWindowMs).toBe(120_000);
  });

  it("treats an empty ALLOWED_ORIGINS as unset (the same origin only)", () => {
    expect(settingsFromEnv({ ALLOWED_ORIGINS: " , " }).allowedOrigins).toBeUndefined();
  });

  it("reads ALLOWED_ORIGINS=* as the wildcard", () => {
    expect(settingsFromEnv({ ALLOWED_ORIGINS: "*" }).allowedOrigins).toBe("*");
  });

  it.each([
    ["PORT", "http"],
    ["PORT", "-1"],
    ["PORT", "80.5"],
    ["HEARTBEAT_INTERVAL_MS", "0"],
    ["HEARTBEAT_INTERVAL_MS", "5s"],
    ["RECONNECT_WINDOW_MIN_MS", "-5"],
    ["RESUME_WINDOW_MS", "-1"],
    ["RESUME_WINDOW_MS", "2m"],
    ["RESUME_WINDOW_MS", "1.5"],
    ["MAX_CONNECTIONS", "0"],
    ["MAX_CONNECTIONS_PER_ADDRESS", "many"],
  ])("refuses %s=%s with code invalid_setting", (name, value) => {
    expect(() => settingsFromEnv({ [name]: value })).toThrow(EchoSettingsError);
    try {
      settingsFromEnv({ [name]: value });
    } catch (error) {
      expect((error as EchoSettingsError).code).toBe("invalid_setting");
      expect((error as Error).message).toContain(name);
    }
  });
});

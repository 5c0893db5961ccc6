// Issue 15 in the core's admission, with no network: capacity (503 / 429 with
// Retry-After) at its boundary, the authenticate bound on the fake clock, the
// same-origin default and its explicit wildcard.
import { describe, expect, it, vi } from "vitest";
import { FakeServerTransport } from "../../testing/src/fake-transport.js";
import { isSameOrigin } from "../src/core/admission-order.js";
import {
  type AdmissionRequest,
  createServerCore,
  type HeartlineError,
  type ServerCoreOptions,
  serverDefaults,
  type UpgradeRejection,
} from "../src/core/index.js";
import { fakeClock } from "./helpers.js";

const transport = (): FakeServerTransport => new FakeServerTransport();

function request(
  address: string,
  parts: { headers?: Record<string, string>; abandoned?: () => boolean; signal?: AbortSignal } = {},
): AdmissionRequest<{ forwardedFor?: string | undefined }> {
  return {
    url: "/ws",
    headers: { host: "app.example", "sec-websocket-protocol": "heartline.v1", ...parts.headers },
    remoteAddress: address,
    raw: { forwardedFor: parts.headers?.["x-forwarded-for"] },
    ...(parts.abandoned === undefined ? {} : { abandoned: parts.abandoned }),
    ...(parts.signal === undefined ? {} : { signal: parts.signal }),
  };
}

function setup(
  options: ServerCoreOptions<unknown, unknown, unknown, { forwardedFor?: string | undefined }> = {},
) {
  const { fc, clock } = fakeClock();
  const rejections: UpgradeRejection[] = [];
  const errors: HeartlineError[] = [];
  const core = createServerCore({
    clock,
    ...options,
    on: { upgradeRejected: (r) => rejections.push(r), error: (e) => errors.push(e) },
  });
  /** Admits and, when accepted, accepts: returns the sink, or the refusal. */
  const connect = async (address: string, parts?: Parameters<typeof request>[1]) => {
    const verdict = await core.admit(request(address, parts));
    if (verdict.kind !== "accepted") return verdict;
    return core.accept(transport(), { remoteAddress: verdict.remoteAddress, auth: verdict.auth });
  };
  return { fc, core, rejections, errors, connect };
}

describe("capacity (maxConnections, maxConnectionsPerAddress)", () => {
  it("are off by default", () => {
    expect(serverDefaults.maxConnections).toBe(Infinity);
    expect(serverDefaults.maxConnectionsPerAddress).toBe(Infinity);
  });

  it("accepts the 20th connection and refuses the 21st with 503, Retry-After, server_full; a freed place is taken again", async () => {
    const { core, rejections, connect } = setup({ maxConnections: 20 });
    const sinks = [];
    for (let i = 0; i < 20; i++) {
      const sink = await connect(`10.0.0.${i}`);
      expect(sink).not.toHaveProperty("kind");
      sinks.push(sink as Exclude<typeof sink, { kind: string }>);
    }
    expect(await connect("10.0.1.1")).toEqual({
      kind: "refused",
      status: 503,
      reason: "server_full",
      // The goodbye window's end (10 s by default), in whole seconds.
      retryAfterSeconds: 10,
    });
    expect(rejections).toEqual([{ status: 503, reason: "server_full", remoteAddress: "10.0.1.1" }]);
    expect(core.stats()).toMatchObject({
      open: 20,
      upgradesRejected: { 503: 1 },
      upgradesRejectedByReason: { server_full: 1 },
    });
    // A closing socket still holds its place; a gone one frees it.
    sinks[0]!.closed(1000, true);
    expect(await connect("10.0.1.1")).not.toHaveProperty("kind");
    expect(await connect("10.0.1.2")).toMatchObject({ status: 503 });
  });

  it("per address: the 3rd from one address is refused 429 with Retry-After while another address connects", async () => {
    const { rejections, connect } = setup({ maxConnectionsPerAddress: 2, maxConnections: 100 });
    await connect("127.0.0.1");
    await connect("127.0.0.1");
    expect(await connect("127.0.0.1")).toEqual({
      kind: "refused",
      status: 429,
      reason: "address_limit",
      retryAfterSeconds: 10,
    });
    expect(await connect("127.0.0.2")).not.toHaveProperty("kind");
    expect(rejections).toEqual([
      { status: 429, reason: "address_limit", remoteAddress: "127.0.0.1" },
    ]);
  });

  it("checks the total before the address (503 before 429)", async () => {
    const { connect } = setup({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    await connect("127.0.0.1");
    expect(await connect("127.0.0.1")).toMatchObject({ status: 503 });
  });

  it("names the address with addressOf (behind a proxy) and reports that address", async () => {
    const { connect, rejections, core } = setup({
      maxConnectionsPerAddress: 1,
      addressOf: (raw) => raw.forwardedFor,
    });
    await connect("10.9.9.9", { headers: { "x-forwarded-for": "203.0.113.7" } });
    await connect("10.9.9.9", { headers: { "x-forwarded-for": "203.0.113.8" } });
    expect(
      await connect("10.9.9.9", { headers: { "x-forwarded-for": "203.0.113.7" } }),
    ).toMatchObject({ status: 429 });
    expect(rejections[0]?.remoteAddress).toBe("203.0.113.7");
    expect([...core.connections()].map((c) => c.remoteAddress)).toEqual([
      "203.0.113.7",
      "203.0.113.8",
    ]);
  });

  it("runs before authenticate (a refused resume spends nothing), and an upgrade waiting on authenticate holds a place", async () => {
    const authenticate = vi.fn(() => new Promise<{ user: string }>(() => {}));
    const { core, connect } = setup({ maxConnections: 2, authenticate });
    void core.admit(request("10.0.0.1"));
    void core.admit(request("10.0.0.2"));
    expect(authenticate).toHaveBeenCalledTimes(2);
    expect(await connect("10.0.0.3")).toMatchObject({ status: 503, reason: "server_full" });
    expect(authenticate).toHaveBeenCalledTimes(2);
  });

  it("gives the place back when authenticate refuses", async () => {
    const { connect } = setup({ maxConnections: 1, authenticate: () => false });
    expect(await connect("10.0.0.1")).toMatchObject({ status: 401 });
    expect(await connect("10.0.0.1")).toMatchObject({ status: 401 });
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses maxConnections %s (invalid_option)", (value) => {
    expect(() => createServerCore({ maxConnections: value })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });
});

describe("authenticateTimeoutMs", () => {
  it("defaults to 10 s", () => {
    expect(serverDefaults.authenticateTimeoutMs).toBe(10_000);
  });

  it("a hook still pending is waited for until timeout − 1, and refused 401 (authenticate_timeout) at the timeout", async () => {
    const { fc, core, rejections } = setup({
      authenticateTimeoutMs: 500,
      maxConnections: 1,
      authenticate: () => new Promise<{ user: string }>(() => {}),
    });
    let verdict: unknown;
    void (core.admit(request("10.0.0.1")) as Promise<unknown>).then((v) => (verdict = v));
    await fc.tickAsync(499);
    expect(verdict).toBeUndefined();
    expect(rejections).toEqual([]);
    await fc.tickAsync(1);
    expect(verdict).toEqual({ kind: "refused", status: 401, reason: "authenticate_timeout" });
    expect(rejections).toEqual([
      { status: 401, reason: "authenticate_timeout", remoteAddress: "10.0.0.1" },
    ]);
    expect(core.stats().upgradesRejectedByReason.authenticate_timeout).toBe(1);
    // Its place was given back.
    expect(fc.countTimers()).toBe(0);
  });

  it("a hook that settles at timeout − 1 is accepted, and its late twin is ignored", async () => {
    const { fc, core } = setup({
      authenticateTimeoutMs: 500,
      authenticate: () =>
        new Promise<{ user: string }>((resolve) =>
          fc.setTimeout(() => resolve({ user: "a" }), 499),
        ),
    });
    const verdict = core.admit(request("10.0.0.1"));
    await fc.tickAsync(499);
    expect(await verdict).toMatchObject({ kind: "accepted", auth: { user: "a" } });
    expect(fc.countTimers()).toBe(0);
  });

  it("aborts the hook's signal at the timeout, not at timeout − 1, with an authenticate_timeout reason", async () => {
    const signals: AbortSignal[] = [];
    const { fc, core } = setup({
      authenticateTimeoutMs: 500,
      authenticate: (_request, { signal }) => {
        signals.push(signal);
        return new Promise<{ user: string }>(() => {});
      },
    });
    void core.admit(request("10.0.0.1"));
    await fc.tickAsync(0);
    expect(signals).toHaveLength(1);
    const signal = signals[0]!;
    await fc.tickAsync(499);
    expect(signal.aborted).toBe(false);
    await fc.tickAsync(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: "authenticate_timeout" });
  });

  it("a client that leaves mid-hook: the hook's signal aborts at once and the admission ends abandoned, unreported, its place given back", async () => {
    const signals: AbortSignal[] = [];
    const { fc, core, rejections } = setup({
      authenticateTimeoutMs: 500,
      maxConnections: 1,
      authenticate: (_request, { signal }) => {
        signals.push(signal);
        return new Promise<{ user: string }>(() => {});
      },
    });
    const left = new AbortController();
    let verdict: unknown;
    void (core.admit(request("10.0.0.1", { signal: left.signal })) as Promise<unknown>).then(
      (v) => (verdict = v),
    );
    await fc.tickAsync(100);
    expect(signals[0]!.aborted).toBe(false);
    left.abort();
    expect(signals[0]!.aborted).toBe(true);
    await fc.tickAsync(0);
    expect(verdict).toEqual({ kind: "abandoned" });
    expect(rejections).toEqual([]);
    // No timer left (the timeout was cleared), and the place is free for the next upgrade.
    expect(fc.countTimers()).toBe(0);
    void core.admit(request("10.0.0.2"));
    await fc.tickAsync(0);
    expect(signals).toHaveLength(2);
  });

  it("a hook that settles in time: its signal never aborts", async () => {
    const signals: AbortSignal[] = [];
    const { fc, core } = setup({
      authenticateTimeoutMs: 500,
      authenticate: (_request, { signal }) => {
        signals.push(signal);
        return { user: "a" };
      },
    });
    expect(await core.admit(request("10.0.0.1"))).toMatchObject({ kind: "accepted" });
    await fc.tickAsync(1000);
    expect(signals[0]!.aborted).toBe(false);
  });

  it("Infinity disables the bound", async () => {
    const { fc, core } = setup({
      authenticateTimeoutMs: Infinity,
      authenticate: () => new Promise<{ user: string }>(() => {}),
    });
    void core.admit(request("10.0.0.1"));
    expect(fc.countTimers()).toBe(0);
  });
});

describe("the origin check", () => {
  it.each([
    ["http://app.example", "app.example", true],
    ["http://app.example", "APP.Example", true],
    ["http://app.example", "app.example:80", true],
    ["http://app.example:80", "app.example", true],
    ["https://app.example", "app.example:443", true],
    ["https://app.example", "app.example", true],
    ["http://app.example:8080", "app.example:8080", true],
    ["http://[::1]:5000", "[::1]:5000", true],
    ["HTTP://APP.EXAMPLE", "app.example", true],
    ["http://app.example", "app.example:8080", false],
    ["https://app.example", "app.example:80", false],
    ["http://app.example:8080", "app.example", false],
    ["http://evil.example", "app.example", false],
    ["http://app.example.evil.example", "app.example", false],
    ["null", "app.example", false],
    ["http://app.example", undefined, false],
    ["http://app.example", "app.example/x", false],
  ] as const)("same origin: Origin %s, Host %s → %s", (origin, host, same) => {
    expect(isSameOrigin(origin, host)).toBe(same);
  });

  it("by default refuses a foreign Origin with 403 and lets the same one, and none, pass", async () => {
    const { connect } = setup();
    expect(await connect("10.0.0.1", { headers: { origin: "https://evil.example" } })).toEqual({
      kind: "refused",
      status: 403,
      reason: "origin_not_allowed",
    });
    expect(
      await connect("10.0.0.1", { headers: { origin: "https://app.example" } }),
    ).not.toHaveProperty("kind");
    expect(await connect("10.0.0.1")).not.toHaveProperty("kind");
  });

  it('"*" lets every origin pass; ["*"] is refused as ambiguous', async () => {
    const { connect } = setup({ allowedOrigins: "*" });
    expect(
      await connect("10.0.0.1", { headers: { origin: "https://evil.example" } }),
    ).not.toHaveProperty("kind");
    expect(() => createServerCore({ allowedOrigins: ["*"] })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });

  it('"*" with authenticate: one insecure_origins warning on error, after creation', async () => {
    const errors: string[] = [];
    const core = createServerCore({ allowedOrigins: "*", authenticate: () => ({}) });
    core.on("error", (e) => errors.push(e.code));
    await Promise.resolve();
    await Promise.resolve();
    expect(errors).toEqual(["insecure_origins"]);
    createServerCore({ allowedOrigins: "*" }).on("error", (e) => errors.push(e.code));
    await Promise.resolve();
    expect(errors).toEqual(["insecure_origins"]);
  });

  it('"*" with authenticate and no error listener: one console line, nothing thrown', async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    createServerCore({ allowedOrigins: "*", authenticate: () => ({}) });
    await Promise.resolve();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('allowedOrigins "*"');
    warn.mockRestore();
  });
});

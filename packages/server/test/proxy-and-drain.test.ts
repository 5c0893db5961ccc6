// Issue 24 in the core, with no network: trustProxy in admission (the origin
// check and the address read the same forwarded view), the drain of
// close({ drainMs }) on the fake clock at its boundary, and the start-up
// warning about proxy idle timeouts.
import { describe, expect, it } from "vitest";
import {
  type AdmissionRequest,
  createServerCore,
  type HeartlineError,
  PROXY_IDLE_WARNING_MS,
  type ServerCoreOptions,
  type ServerTransport,
  type UpgradeRejection,
} from "../src/core/index.js";
import { fakeClock } from "./helpers.js";

function transport(closes: number[] = []): ServerTransport {
  return {
    send() {},
    close(code) {
      closes.push(code);
    },
    terminate() {},
    bufferedAmount: 0,
  };
}

function upgrade(peer: string, headers: Record<string, string> = {}): AdmissionRequest {
  return {
    url: "/ws",
    headers: { host: "127.0.0.1:5000", "sec-websocket-protocol": "heartline.v1", ...headers },
    remoteAddress: peer,
    raw: { headers: {} },
  };
}

function setup(options: ServerCoreOptions = {}) {
  const { fc, clock } = fakeClock();
  const rejections: (UpgradeRejection & { origin?: unknown })[] = [];
  const errors: HeartlineError[] = [];
  const core = createServerCore({
    clock,
    ...options,
    on: {
      upgradeRejected: (r, request) =>
        rejections.push(request?.headers.origin ? { ...r, origin: request.headers.origin } : r),
      error: (e) => errors.push(e),
    },
  });
  const connect = async (request: AdmissionRequest, closes?: number[]) => {
    const verdict = await core.admit(request);
    if (verdict.kind !== "accepted") return verdict;
    core.accept(transport(closes), { remoteAddress: verdict.remoteAddress, auth: undefined });
    return verdict;
  };
  return { fc, core, rejections, errors, connect };
}

describe("trustProxy in admission", () => {
  it("a forged X-Forwarded-For does not get 5 clients from one address past a per-address limit of 2", async () => {
    const { connect, rejections } = setup({ trustProxy: 1, maxConnectionsPerAddress: 2 });
    const verdicts = [];
    for (let i = 0; i < 5; i++) {
      // nginx appends the real client (198.51.100.7) after whatever the client wrote.
      const forged = `10.9.4.${i}, 198.51.100.7`;
      verdicts.push(await connect(upgrade("127.0.0.1", { "x-forwarded-for": forged })));
    }
    expect(verdicts.map((v) => v.kind)).toEqual([
      "accepted",
      "accepted",
      "refused",
      "refused",
      "refused",
    ]);
    expect(rejections.map((r) => [r.status, r.reason, r.remoteAddress])).toEqual([
      [429, "address_limit", "198.51.100.7"],
      [429, "address_limit", "198.51.100.7"],
      [429, "address_limit", "198.51.100.7"],
    ]);
  });

  it("the same origin is judged on the forwarded Host and scheme from a trusted proxy", async () => {
    const { connect, rejections } = setup({ trustProxy: ["loopback"] });
    // nginx on :8081 in front of :5000 (Host names the upstream, as by default).
    const page = {
      origin: "http://localhost:8081",
      "x-forwarded-host": "localhost:8081",
      "x-forwarded-proto": "http",
    };
    expect((await connect(upgrade("127.0.0.1", page))).kind).toBe("accepted");
    // The page over https but the proxy said http: not the same origin.
    const wrongScheme = { ...page, origin: "https://localhost:8081" };
    expect((await connect(upgrade("127.0.0.1", wrongScheme))).kind).toBe("refused");
    // Cross-site.
    const other = { ...page, origin: "http://evil.example" };
    expect((await connect(upgrade("127.0.0.1", other))).kind).toBe("refused");
    // The same headers from an untrusted peer: the Host header (upstream) is compared, so refused.
    expect((await connect(upgrade("192.0.2.9", page))).kind).toBe("refused");
    expect(rejections).toEqual([
      {
        status: 403,
        reason: "origin_not_allowed",
        remoteAddress: "127.0.0.1",
        origin: "https://localhost:8081",
      },
      {
        status: 403,
        reason: "origin_not_allowed",
        remoteAddress: "127.0.0.1",
        origin: "http://evil.example",
      },
      {
        status: 403,
        reason: "origin_not_allowed",
        remoteAddress: "192.0.2.9",
        origin: "http://localhost:8081",
      },
    ]);
  });

  it("without trustProxy the forwarded headers change nothing", async () => {
    const { connect, rejections } = setup({ maxConnectionsPerAddress: 1 });
    const headers = { origin: "http://localhost:8081", "x-forwarded-host": "localhost:8081" };
    expect((await connect(upgrade("127.0.0.1", headers))).kind).toBe("refused");
    expect(rejections[0]).toMatchObject({ reason: "origin_not_allowed" });
  });

  it("refuses addressOf together with trustProxy", () => {
    expect(() => setup({ trustProxy: 1, addressOf: () => "x" })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });
});

describe("close({ drainMs })", () => {
  it("refuses new upgrades 503 + Retry-After while keeping clients until drainMs, then goodbye and 1001", async () => {
    const { fc, core, connect, rejections } = setup();
    const closes: number[] = [];
    await connect(upgrade("198.51.100.1"), closes);
    let closed = false;
    const closing = core.close({ drainMs: 10_000 }).then(() => {
      closed = true;
    });
    expect(core.state).toBe("draining");
    expect(core.accepting).toBe(false);
    expect(await connect(upgrade("198.51.100.2"))).toEqual({
      kind: "refused",
      status: 503,
      reason: "server_closing",
      retryAfterSeconds: 10,
    });
    expect(rejections.map((r) => r.reason)).toEqual(["server_closing"]);
    await fc.tickAsync(9_999);
    expect(closes).toEqual([]);
    expect(core.stats().open).toBe(1);
    expect(core.state).toBe("draining");
    await fc.tickAsync(1);
    expect(core.state).toBe("closing");
    expect(closes).toEqual([1001]);
    expect(closed).toBe(false);
    // A second close() changes nothing (its drainMs ignored).
    void core.close({ drainMs: 99_999 });
    await fc.tickAsync(5_000); // closeTimeoutMs: the transport never confirmed, so it is destroyed
    await closing;
    expect(core.state).toBe("closed");
  });

  it("stays up for the whole drain even when every client has left", async () => {
    const { fc, core } = setup();
    const sink = core.accept(transport(), { remoteAddress: "198.51.100.1", auth: undefined });
    let closed = false;
    void core.close({ drainMs: 2000 }).then(() => {
      closed = true;
    });
    await fc.tickAsync(1000);
    sink.closed(1000, true); // the only client leaves mid-drain
    await fc.tickAsync(999);
    expect(closed).toBe(false);
    expect(core.state).toBe("draining");
    await fc.tickAsync(1);
    expect(closed).toBe(true);
    expect(core.state).toBe("closed");
  });

  it("rejects a negative drainMs", () => {
    const { core } = setup();
    expect(() => core.close({ drainMs: -1 })).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });
});

describe("proxy idle-timeout warning", () => {
  const warningsFor = async (options: ServerCoreOptions) => {
    const { errors } = setup(options);
    await Promise.resolve();
    return errors.filter((e) => e.code === "proxy_idle_timeout");
  };

  it(`warns once above ${PROXY_IDLE_WARNING_MS} ms with keep-alive off`, async () => {
    expect(await warningsFor({ intervalMs: PROXY_IDLE_WARNING_MS + 1 })).toHaveLength(1);
  });

  it("is silent at the boundary, and with keep-alive on", async () => {
    expect(await warningsFor({ intervalMs: PROXY_IDLE_WARNING_MS })).toHaveLength(0);
    expect(await warningsFor({ intervalMs: 90_000, keepAliveIntervalMs: 30_000 })).toHaveLength(0);
  });
});

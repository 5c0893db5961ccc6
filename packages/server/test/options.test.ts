// Option validation at creation (issue 21, point 5): every wrong option
// throws `invalid_option` synchronously, naming the option; and an error with
// no `error` listener leaves a trace (one console line per code).
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeServerTransport as FakeTransport } from "../../testing/src/fake-transport.js";
import { createServerCore, HeartlineError } from "../src/core/index.js";
import { createServer } from "../src/index.js";

/** Options as plain JavaScript may pass them: no types to stop a wrong shape. */
type Untyped = Record<string, unknown>;

describe("options are checked at creation, naming the option", () => {
  it.each([
    ["timeoutMs below intervalMs", { intervalMs: 1000, timeoutMs: 999 }, "timeoutMs"],
    ["timeoutMs equal to intervalMs", { intervalMs: 1000, timeoutMs: 1000 }, "timeoutMs"],
    ["a path without its leading slash", { path: "ws" }, "path"],
    ["a path with a query", { path: "/ws?x=1" }, "path"],
    ["a path that is not a string", { path: 7 }, "path"],
    ["allowedOrigins as one string", { allowedOrigins: "https://a.com" }, "allowedOrigins"],
    ["allowedOrigins holding a non-string", { allowedOrigins: [1] }, "allowedOrigins"],
    ["authenticate that is not a function", { authenticate: true }, "authenticate"],
    ["addressOf that is not a function", { addressOf: "x-forwarded-for" }, "addressOf"],
    ["generateSessionId that is not a function", { generateSessionId: 1 }, "generateSessionId"],
    ["a clock without setTimeout", { clock: { now: () => 0 } }, "clock"],
    ["a listener that is not a function", { on: { message: "log" } }, "on.message"],
    [
      "a listener for an event that does not exist",
      { on: { disconected: () => {} } },
      "on.disconected",
    ],
    [
      "rateLimit with a burst below one frame",
      { rateLimit: { burst: 0.5, perSecond: 10 } },
      "rateLimit.burst",
    ],
    [
      "rateLimit with a negative rate",
      { rateLimit: { burst: 10, perSecond: -1 } },
      "rateLimit.perSecond",
    ],
    ["rateLimit that is not an object", { rateLimit: 100 }, "rateLimit"],
    ["reconnectWindow that is not an object", { reconnectWindow: 5 }, "reconnectWindow"],
    [
      "a protocol schema that is not a schema",
      { protocol: { client: { text: "string" } } },
      "protocol.client",
    ],
    ["a meterProvider without getMeter", { meterProvider: {} }, "meterProvider"],
  ] as const)("%s", (_name, options, named) => {
    let thrown: unknown;
    try {
      createServerCore(options as Untyped);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HeartlineError);
    expect(thrown).toMatchObject({ code: "invalid_option" });
    expect((thrown as Error).message).toContain(named);
  });

  it.each([
    ["a port out of range", { port: 70_000 }, "port"],
    ["a port that is not a number", { port: "8080" }, "port"],
    ["a server that is not an HTTP server", { server: {} }, "server"],
  ] as const)("createServer refuses %s", (_name, options, named) => {
    expect(() => createServer(options as Untyped as { noServer: true })).toThrow(
      expect.objectContaining({ code: "invalid_option", message: expect.stringContaining(named) }),
    );
  });

  it("createServer checks them before it listens or attaches anything", () => {
    expect(() => createServer({ noServer: true, path: "ws" })).toThrow(
      expect.objectContaining({ code: "invalid_option", message: expect.stringContaining("path") }),
    );
    expect(() =>
      createServer({ noServer: true, allowedOrigins: "https://a.com" } as Untyped as {
        noServer: true;
      }),
    ).toThrow(expect.objectContaining({ code: "invalid_option" }));
  });

  it("keeps accepting what is documented: timeoutMs just above intervalMs, rate limits off", () => {
    expect(() => createServerCore({ intervalMs: 1000, timeoutMs: 1001 })).not.toThrow();
    expect(() => createServerCore({ rateLimit: false, byteRateLimit: false })).not.toThrow();
    expect(() => createServerCore({ rateLimit: { burst: 1, perSecond: 0 } })).not.toThrow();
    expect(() => createServerCore({ path: "/", allowedOrigins: "*" })).not.toThrow();
    const every = { connection() {}, message() {}, disconnect() {}, resumed() {}, resume() {} };
    const more = { sessionEnd() {}, error() {}, upgradeRejected() {} };
    expect(() => createServerCore({ on: { ...every, ...more } })).not.toThrow();
  });
});

describe("an error with no error listener", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("is logged with console.error, once per code, instead of vanishing", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const core = createServerCore({});
    const sink = core.accept(new FakeTransport(), { remoteAddress: "10.0.0.1", auth: undefined });
    sink.errored(new Error("ECONNRESET"));
    sink.errored(new Error("ECONNRESET again"));
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]![0])).toContain("transport_error");
    expect(logged.mock.calls[0]![1]).toEqual(new Error("ECONNRESET"));
  });

  it("goes to the error listeners, and not to the console, when there are some", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const errors: string[] = [];
    const core = createServerCore({ on: { error: (e) => errors.push(e.code) } });
    const sink = core.accept(new FakeTransport(), { remoteAddress: "10.0.0.1", auth: undefined });
    sink.errored(new Error("ECONNRESET"));
    expect(errors).toEqual(["transport_error"]);
    expect(logged).not.toHaveBeenCalled();
  });
});

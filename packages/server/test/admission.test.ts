// The core's one admission function, with no network: the order of the
// checks, what each refusal reports, and the asynchronous path's edges.
import { describe, expect, it, vi } from "vitest";
import {
  type AdmissionRequest,
  createServerCore,
  type ServerCoreOptions,
  type UpgradeRejection,
} from "../src/core/index.js";

/** A request that passes every check; `headers`/`url` override parts of it. */
function request(
  parts: { url?: string; headers?: Record<string, string>; abandoned?: () => boolean } = {},
): AdmissionRequest<{ id: string }> {
  return {
    url: parts.url ?? "/ws?token=t",
    headers: {
      origin: "https://app.example",
      "sec-websocket-protocol": "chat, heartline.v1",
      ...parts.headers,
    },
    remoteAddress: "10.0.0.1",
    raw: { id: "raw-request" },
    ...(parts.abandoned === undefined ? {} : { abandoned: parts.abandoned }),
  };
}

function core(options: ServerCoreOptions<unknown, unknown, unknown, { id: string }> = {}) {
  const rejections: UpgradeRejection[] = [];
  const errors: unknown[] = [];
  const c = createServerCore({
    allowedOrigins: ["https://app.example"],
    ...options,
    on: { upgradeRejected: (r) => rejections.push(r), error: (e) => errors.push(e) },
  });
  return { core: c, rejections, errors };
}

describe("core.admit", () => {
  it.each([
    ["another path", { url: "/other" }, 404, "not_found"],
    ["another origin", { headers: { origin: "https://evil.example" } }, 403, "origin_not_allowed"],
    [
      "no heartline.v1 among the offers",
      { headers: { "sec-websocket-protocol": "chat" } },
      400,
      "unsupported_subprotocol",
    ],
  ] as const)("refuses %s, synchronously, reporting it once", (_name, parts, status, reason) => {
    const { core: c, rejections } = core();
    const verdict = c.admit(request(parts));
    expect(verdict).toEqual({ kind: "refused", status, reason });
    expect(rejections).toEqual([{ status, reason, remoteAddress: "10.0.0.1" }]);
    expect(c.stats().upgradesRejected).toEqual({ [status]: 1 });
  });

  it("checks in the contract's order: closing 503, path 404, origin 403, subprotocol 400, authenticate 401", async () => {
    const authenticate = vi.fn(() => false as const);
    const wrong = {
      url: "/other",
      headers: { origin: "https://evil.example", "sec-websocket-protocol": "chat" },
    };
    const statusOf = async (parts: Parameters<typeof request>[0], closing = false) => {
      const { core: c } = core({ authenticate });
      if (closing) void c.close();
      const verdict = await c.admit(request(parts));
      return verdict.kind === "refused" ? verdict.status : verdict.kind;
    };
    expect(await statusOf(wrong, true)).toBe(503);
    expect(await statusOf(wrong)).toBe(404);
    expect(await statusOf({ headers: wrong.headers })).toBe(403);
    expect(await statusOf({ headers: { "sec-websocket-protocol": "chat" } })).toBe(400);
    expect(authenticate).not.toHaveBeenCalled();
    expect(await statusOf({})).toBe(401);
    expect(authenticate).toHaveBeenCalledTimes(1);
  });

  it("accepts synchronously without authenticate, answering heartline.v1, or no subprotocol when none was offered", () => {
    const { core: c, rejections } = core();
    expect(c.admit(request())).toEqual({
      kind: "accepted",
      auth: undefined,
      protocol: "heartline.v1",
      remoteAddress: "10.0.0.1",
    });
    expect(c.admit(request({ headers: { "sec-websocket-protocol": "" } }))).toEqual({
      kind: "accepted",
      auth: undefined,
      protocol: "",
      remoteAddress: "10.0.0.1",
    });
    expect(c.admit(request({ headers: { origin: "HTTPS://APP.EXAMPLE:443/" } }))).toMatchObject({
      kind: "accepted",
    });
    expect(rejections).toEqual([]);
  });

  it("hands authenticate the adapter's raw request, and accepts with what it resolves to", async () => {
    const authenticate = vi.fn(async (raw: { id: string }) => ({ user: "ada", from: raw.id }));
    const { core: c } = core({ authenticate });
    const verdict = c.admit(request());
    expect(verdict).toBeInstanceOf(Promise);
    expect(await verdict).toEqual({
      kind: "accepted",
      auth: { user: "ada", from: "raw-request" },
      protocol: "heartline.v1",
      remoteAddress: "10.0.0.1",
    });
  });

  it.each([
    ["undefined (a hook that forgot to answer)", undefined],
    ["null (a failed lookup)", null],
    ["false", false],
  ] as const)(
    "an authenticate that resolves to %s refuses 401 (unauthorized), reported once",
    async (_name, answer) => {
      const { core: c, rejections } = core({ authenticate: async () => answer });
      expect(await c.admit(request())).toEqual({
        kind: "refused",
        status: 401,
        reason: "unauthorized",
      });
      expect(rejections).toEqual([
        { status: 401, reason: "unauthorized", remoteAddress: "10.0.0.1" },
      ]);
    },
  );

  it('accepts every other value, falsy ones included (0, ""): they identify a client', async () => {
    for (const answer of [0, "", { user: "ada" }]) {
      const { core: c } = core({ authenticate: () => answer });
      expect(await c.admit(request())).toMatchObject({ kind: "accepted", auth: answer });
    }
  });

  it("types conn.auth without the refusing values: what an accepted result is", () => {
    const c = createServerCore({
      authenticate: (raw: { id: string }): { user: string } | undefined =>
        raw.id === "" ? undefined : { user: raw.id },
      on: {
        connection: (conn) => {
          // Compiles only if `auth` is `{ user: string }`, not `… | undefined`.
          const user: string = conn.auth.user;
          void user;
        },
      },
    });
    expect(c.accepting).toBe(true);
  });

  it("a throwing authenticate is a 401, reported once, and the throw goes to error (authenticate_threw)", async () => {
    const {
      core: c,
      rejections,
      errors,
    } = core({
      authenticate: () => {
        throw new Error("store down");
      },
    });
    expect(await c.admit(request())).toMatchObject({ kind: "refused", status: 401 });
    expect(rejections).toHaveLength(1);
    expect(errors).toEqual([expect.objectContaining({ code: "authenticate_threw" })]);
  });

  it("refuses 503 when the server began closing while authenticate ran", async () => {
    let resolve!: (auth: { user: string }) => void;
    const { core: c, rejections } = core({ authenticate: () => new Promise((r) => (resolve = r)) });
    const verdict = c.admit(request());
    void c.close();
    resolve({ user: "ada" });
    expect(await verdict).toEqual({
      kind: "refused",
      status: 503,
      reason: "server_closing",
      retryAfterSeconds: 10,
    });
    expect(rejections).toEqual([
      { status: 503, reason: "server_closing", remoteAddress: "10.0.0.1" },
    ]);
  });

  it("an upgrade abandoned while authenticate ran is neither accepted nor reported", async () => {
    let gone = false;
    const { core: c, rejections } = core({
      authenticate: async () => {
        gone = true;
        return false;
      },
    });
    expect(await c.admit(request({ abandoned: () => gone }))).toEqual({ kind: "abandoned" });
    expect(rejections).toEqual([]);
    expect(c.stats().upgradesRejected).toEqual({});
  });
});

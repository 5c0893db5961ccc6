// The server's admission checks (path, allowedOrigins, authenticate) through
// the harness: the same refusals, statuses and events in memory as over real
// loopback sockets, since both transports run the core's one `admit`.
import type { UpgradeRequest } from "@heartline/server/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createHarness,
  type Harness,
  type HarnessOptions,
  type ServerEntry,
} from "../src/index.js";

const X = 1000;
let h: Harness;

afterEach(async () => {
  await h?.close();
});

const isRejection = (entry: { kind: string; event?: string }): entry is ServerEntry =>
  entry.kind === "server" && entry.event === "upgradeRejected";

/** The token in the request's query, as an app reading `?token=` would find it. */
function tokenOf(request: UpgradeRequest): string | null {
  return new URL(request.url ?? "/", "http://host").searchParams.get("token");
}

describe.each(["memory", "loopback"] as const)("admission over %s", (transport) => {
  async function harness(server: HarnessOptions["server"]) {
    h = await createHarness({ transport, server: { intervalMs: X, ...server } });
    return h;
  }

  /** Waits for the one refusal; the client never opens, and the server counted it once. */
  async function refusedWith(status: number, reason: string) {
    const entry = (await h.waitFor.entry(isRejection, { within: 0 })) as ServerEntry;
    expect(entry.payload).toMatchObject({ status, reason });
    expect(h.server.stats().upgradesRejected).toEqual({ [status]: 1 });
    expect(h.server.stats().accepted).toBe(0);
  }

  it("refuses another path with 404 (not_found) and accepts the server's own", async () => {
    await harness({ path: "/live" });
    const lost = await h.client({ path: "/elsewhere" });
    await refusedWith(404, "not_found");
    expect(lost.state).not.toBe("open");
    const c = await h.client();
    await h.waitFor.clientState(c, "open", { within: 0 });
  });

  it("refuses an origin not in allowedOrigins with 403; allows a listed one in any case", async () => {
    await harness({ allowedOrigins: ["https://app.example"] });
    await h.client({ origin: "https://evil.example" });
    await refusedWith(403, "origin_not_allowed");
    const c = await h.client({ origin: "https://APP.example" });
    await h.waitFor.clientState(c, "open", { within: 0 });
  });

  it("authenticate: false is 401 (unauthorized); a value becomes conn.auth and is in the disconnect", async () => {
    const authenticate = vi.fn((request: UpgradeRequest) =>
      tokenOf(request) === "good" ? { user: "ada" } : false,
    );
    await harness({ authenticate });
    await h.client({ path: "/ws?token=bad" });
    await refusedWith(401, "unauthorized");
    const c = await h.client({ path: "/ws?token=good" });
    await h.waitFor.clientState(c, "open", { within: 0 });
    expect([...h.server.connections()].map((conn) => conn.auth)).toEqual([{ user: "ada" }]);
    c.close();
    const gone = await h.waitFor.disconnect({ client: c }, { within: 0 });
    expect(gone).toMatchObject({ reason: "client_closed", auth: { user: "ada" } });
  });

  it("authenticate that throws is a 401, and the throw is reported on error (authenticate_threw)", async () => {
    await harness({
      authenticate: async () => {
        throw new Error("token store down");
      },
    });
    await h.client();
    await refusedWith(401, "unauthorized");
    const error = h.timeline.entries.find((e) => e.kind === "server" && e.event === "error");
    expect(error).toMatchObject({ payload: { code: "authenticate_threw" } });
  });

  it("checks the path before authenticate: a 404 never reaches the hook", async () => {
    const authenticate = vi.fn(() => ({ user: "ada" }));
    await harness({ authenticate });
    await h.client({ path: "/nope" });
    await refusedWith(404, "not_found");
    expect(authenticate).not.toHaveBeenCalled();
  });
});

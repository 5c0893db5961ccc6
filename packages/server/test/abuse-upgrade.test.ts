// Issue 15 over real loopback sockets: capacity at its boundary with the
// Retry-After header, per address with two loopback source addresses, the
// authenticate bound (on the fake clock, with real sockets).
import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { fakeClock, settle, startServer, TestClient, until } from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  closers.push(() => s.hl.close());
  return s;
}

/** Expects a refusal; returns its status and headers. */
function refusal(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<{ status: number; headers: IncomingMessage["headers"] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "heartline.v1", options);
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? -1, headers: res.headers });
      ws.terminate();
    });
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("upgrade was accepted"));
    });
    ws.on("error", () => {});
  });
}

describe("capacity over sockets", () => {
  it("accepts the 20th, refuses the 21st with 503 and Retry-After, and takes a new one once a place is free", async () => {
    const { url, events, hl } = await start({ maxConnections: 20 });
    const clients: TestClient[] = [];
    for (let i = 0; i < 20; i++) clients.push(await TestClient.connect(url));
    const refused = await refusal(url);
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("10");
    await until(() => events.rejections.length === 1, "the rejection report");
    expect(events.rejections).toEqual([
      { status: 503, reason: "server_full", remoteAddress: "127.0.0.1" },
    ]);
    clients[0]!.ws.close();
    await until(() => hl.stats().open === 19, "one fewer open");
    await until(() => events.disconnects.length === 1, "its disconnect");
    // The client's close ends the connection and frees its socket in the same event.
    const again = await TestClient.connect(url);
    expect(again.frames[0]?.type).toBe("welcome");
    expect(hl.stats().open).toBe(20);
  });

  it("per address: 127.0.0.1 at its limit gets 429 with Retry-After while 127.0.0.2 connects", async () => {
    const { url, events } = await start({ maxConnectionsPerAddress: 2 });
    const from1 = { localAddress: "127.0.0.1" };
    const from2 = { localAddress: "127.0.0.2" };
    await TestClient.connect(url, "heartline.v1", from1);
    await TestClient.connect(url, "heartline.v1", from1);
    const refused = await refusal(url, from1);
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBe("10");
    const other = await TestClient.connect(url, "heartline.v1", from2);
    expect(other.frames[0]?.type).toBe("welcome");
    expect(events.rejections).toEqual([
      { status: 429, reason: "address_limit", remoteAddress: "127.0.0.1" },
    ]);
  });
});

describe("authenticateTimeoutMs over sockets", () => {
  it("a hook that never settles: the upgrade is still waiting at timeout − 1, refused 401 at the timeout", async () => {
    const { fc, clock } = fakeClock();
    let calls = 0;
    const { url, events } = await start({
      clock,
      authenticateTimeoutMs: 2000,
      authenticate: () => {
        calls++;
        return new Promise<false>(() => {});
      },
    });
    let answered: number | undefined;
    void refusal(url).then((r) => (answered = r.status));
    await until(() => calls === 1, "authenticate called");
    await fc.tickAsync(1999);
    // A 401 written at T − 1 would have been written inside tickAsync (the
    // server runs in this process, on the fake clock), and a loopback write
    // lands in the client's receive buffer before the call returns. Event-loop
    // turns, not wall time, then deliver it: each turn's poll phase reads
    // every readable socket before its setImmediate runs, however slow the
    // machine. `settle` gives 20 turns (the 401 at T below arrives in one or two).
    await settle();
    expect(answered).toBeUndefined();
    expect(events.rejections).toEqual([]);
    await fc.tickAsync(1);
    await until(() => answered !== undefined, "the 401");
    expect(answered).toBe(401);
    expect(events.rejections).toEqual([
      { status: 401, reason: "authenticate_timeout", remoteAddress: "127.0.0.1" },
    ]);
  });
});

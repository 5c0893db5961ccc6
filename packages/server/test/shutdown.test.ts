import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CloseCode } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import { createServer } from "../src/index.js";
import { fakeClock, record, settle, startServer, TestClient, until } from "./helpers.js";

describe("close()", () => {
  it("sends goodbye with the default window, then 1001; reports server_closed; stops accepting", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock });
    const clients = await Promise.all([1, 2].map(() => TestClient.connect(s.url)));
    await s.hl.close();
    for (const client of clients) {
      expect(client.frames.at(-1)).toEqual({
        type: "goodbye",
        reconnect: { minMs: 1000, maxMs: 10_000 },
      });
      expect((await client.closed).code).toBe(CloseCode.GoingAway);
    }
    expect(s.events.disconnects.map((d) => [d.reason, d.code])).toEqual([
      ["server_closed", 1001],
      ["server_closed", 1001],
    ]);
    expect(s.hl.stats().open).toBe(0);
    // The standalone server no longer listens.
    await expect(TestClient.connect(s.url)).rejects.toThrow();
  });

  it("destroys a client that does not answer the close at closeTimeoutMs, then resolves", async () => {
    const { clock, fc } = fakeClock();
    // Ws's own handshake timer is real-time and as long: far beyond this test.
    const s = await startServer({
      clock,
      closeTimeoutMs: 5000,
      reconnectWindow: { minMs: 0, maxMs: 500 },
    });
    const polite = await TestClient.connect(s.url);
    const stuck = await TestClient.connect(s.url);
    stuck.ws.pause(); // reads nothing, so never answers the close frame
    let resolved = false;
    const closing = s.hl.close().then(() => {
      resolved = true;
    });
    expect((await polite.closed).code).toBe(1001);
    expect(polite.frames.at(-1)).toEqual({ type: "goodbye", reconnect: { minMs: 0, maxMs: 500 } });
    await fc.tickAsync(4999);
    await settle();
    expect(resolved).toBe(false);
    await fc.tickAsync(1);
    await closing;
    stuck.ws.resume();
    await stuck.closed;
    expect(s.events.disconnects.map((d) => d.reason)).toEqual(["server_closed", "server_closed"]);
  });

  it("refuses upgrades handed over after close() with 503, and an attached server keeps serving HTTP", async () => {
    const http = createHttpServer((_req, res) => res.end("still here"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const hl = createServer({ noServer: true });
    const events = record(hl);
    http.on("upgrade", (req, socket, head) => void hl.handleUpgrade(req, socket, head));
    const { port } = http.address() as AddressInfo;
    await hl.close();
    expect(await TestClient.refused(`ws://127.0.0.1:${port}/ws`)).toBe(503);
    expect(events.rejections).toEqual([
      { status: 503, reason: "server_closing", remoteAddress: "127.0.0.1" },
    ]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("still here");
    await new Promise((resolve) => http.close(resolve));
  });

  it("refuses an upgrade whose authenticate finishes after close() began", async () => {
    let release: ((v: { user: string }) => void) | undefined;
    const s = await startServer({
      authenticate: () =>
        new Promise<{ user: string }>((resolve) => {
          release = resolve;
        }),
    });
    const refused = TestClient.refused(s.url);
    await until(() => release !== undefined, "authenticate called");
    const closing = s.hl.close();
    release!({ user: "late" });
    expect(await refused).toBe(503);
    await closing;
    expect(s.events.connections).toEqual([]);
  });
});

describe("exactly one disconnect under racing ends (real sockets)", () => {
  it("client close in flight when the server shuts down: server_closed only", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock });
    const client = await TestClient.connect(s.url);
    client.ws.close(4001, "leaving"); // on the wire, not yet read by the server
    await s.hl.close();
    await client.closed;
    await settle();
    expect(s.events.disconnects.map((d) => d.reason)).toEqual(["server_closed"]);
  });

  it("timeout at the instant a client close arrives: one report", async () => {
    const { clock, fc } = fakeClock();
    const s = await startServer({ clock, intervalMs: 1000 });
    const client = await TestClient.connect(s.url);
    await fc.tickAsync(1999);
    client.ws.close(4001, "leaving");
    await fc.tickAsync(1); // the timeout fires before the close frame is read
    await client.closed;
    await settle();
    expect(s.events.disconnects.map((d) => d.reason)).toEqual(["timeout"]);
    await s.hl.close();
    expect(s.events.disconnects).toHaveLength(1);
  });

  it("a bad frame, then the client's close, then shutdown: protocol_error only", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock });
    const client = await TestClient.connect(s.url);
    client.send("oops");
    client.ws.close(1000);
    await until(() => s.events.disconnects.length === 1, "report");
    await s.hl.close();
    await settle();
    expect(s.events.disconnects.map((d) => [d.reason, d.code])).toEqual([["protocol_error", 4400]]);
  });

  it("oversize frames racing a timeout are one protocol_error", async () => {
    const { clock, fc } = fakeClock();
    const s = await startServer({ clock, intervalMs: 1000, maxPayload: 100 });
    const client = await TestClient.connect(s.url);
    client.send(JSON.stringify({ type: "message", data: "x".repeat(200) }));
    await until(() => s.events.disconnects.length === 1, "report");
    await fc.tickAsync(5000);
    await client.closed;
    await s.hl.close();
    expect(s.events.disconnects.map((d) => [d.reason, d.code])).toEqual([["protocol_error", 1009]]);
  });
});

describe("close() with resumable sessions (real sockets)", () => {
  it("ends every session before it resolves, each reported once with its unacknowledged messages", async () => {
    const { clock } = fakeClock();
    const s = await startServer({ clock, resume: {} });
    const ends: { sessionId: string; reason: string; undelivered: readonly unknown[] }[] = [];
    s.hl.on("sessionEnd", (info) => ends.push(info));
    const offer = ["heartline.v1", "heartline.resume"];
    // One client stays, one drops: its session waits for it. Neither acknowledges anything.
    const staying = await TestClient.connect(s.url, offer);
    const leaving = await TestClient.connect(s.url, offer);
    for (const conn of s.hl.connections()) for (const n of [1, 2, 3, 4, 5]) conn.send(n);
    const leavingId = leaving.frames[0]!.type === "welcome" ? leaving.frames[0]!.sessionId : "";
    await until(() => leaving.frames.length === 6, "five messages");
    leaving.ws.terminate();
    await until(() => s.hl.stats().sessions.detached === 1, "the session waits");
    s.hl.session(leavingId)!.send(6);
    await s.hl.close();
    // Reported by the time `await close()` returns: a process may exit now.
    expect(ends.map((e) => [e.reason, e.undelivered])).toEqual([
      ["server_closed", [1, 2, 3, 4, 5]],
      ["server_closed", [1, 2, 3, 4, 5, 6]],
    ]);
    expect(ends[1]!.sessionId).toBe(leavingId);
    expect((await staying.closed).code).toBe(CloseCode.GoingAway);
    expect(s.hl.stats().sessions).toMatchObject({ live: 0, detached: 0, ended: 2 });
  });
});

// One resume end to end over real `ws` sockets on loopback (port 0): takeover, replay, acks.
import { connect } from "node:net";
import { CloseCode } from "@heartline/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { ResumedInfo, SessionEndInfo } from "../../src/index.js";
import { settle, startServer, TestClient, until } from "../helpers.js";
import { LaggingStore } from "./lagging-store.js";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe("resume over ws", () => {
  it("a client that comes back on a new socket takes over the old one (4409) and gets the replay", async () => {
    const s = await startServer({ resume: { windowMs: 60_000 } });
    cleanup = () => s.hl.close();
    const resumes: ResumedInfo[] = [];
    const ends: SessionEndInfo[] = [];
    s.hl.on("resumed", (info) => resumes.push(info));
    s.hl.on("sessionEnd", (info) => ends.push(info));

    const a = await TestClient.connect(s.url, ["heartline.v1", "heartline.resume"]);
    expect(a.ws.protocol).toBe("heartline.v1");
    const first = a.ofType("welcome")[0]!;
    expect(first.resume?.windowMs).toBe(60_000);
    a.send({ type: "message", seq: 1, data: "hello" });
    await until(() => s.events.messages.length === 1, "message 1");
    const conn = s.events.connections[0]!;
    expect(conn.send("one")).toBe(true);
    expect(conn.send("two")).toBe(true);
    await until(() => a.ofType("message").length === 2, "two messages");
    expect(a.ofType("message").map((m) => m.seq)).toEqual([1, 2]);
    a.send({ type: "ack", seq: 1 });
    await until(() => s.hl.stats().framesIn === 2, "the ack");

    // The old socket is still open (the server has not noticed anything): a takeover.
    const b = await TestClient.connect(s.url, [
      "heartline.v1",
      `heartline.resume.${first.resume!.token}`,
    ]);
    await a.closed;
    expect(a.closeCode).toBe(CloseCode.Replaced);
    const second = b.ofType("welcome")[0]!;
    expect(second).toMatchObject({ sessionId: first.sessionId, resumed: { ack: 1 } });
    await until(() => b.ofType("message").length === 1, "replay");
    expect(b.ofType("message")).toEqual([{ type: "message", seq: 2, data: "two" }]);
    expect(s.events.disconnects).toMatchObject([
      { sessionId: first.sessionId, reason: "replaced", code: 4409, resumable: true },
    ]);
    expect(resumes).toEqual([{ sessionId: first.sessionId, gapMs: 0, replayed: 1, ack: 1 }]);
    b.send({ type: "message", seq: 2, data: "again" });
    await until(() => s.events.messages.length === 2, "message 2");
    expect(s.events.messages.map((m) => m.data)).toEqual(["hello", "again"]);

    // A deliberate close ends the session, reporting what the client never acknowledged.
    b.ws.close(1000);
    await until(() => ends.length === 1, "session end");
    expect(ends[0]).toMatchObject({
      sessionId: first.sessionId,
      reason: "client_closed",
      undelivered: ["two"],
    });
    expect(s.events.disconnects).toHaveLength(2);
  });

  it("a plain v1 client sees no resume fields and no seq on a server with resume on", async () => {
    const s = await startServer({ resume: {} });
    cleanup = () => s.hl.close();
    const c = await TestClient.connect(s.url);
    expect(Object.keys(c.ofType("welcome")[0]!).sort()).toEqual([
      "heartbeat",
      "protocol",
      "rate",
      "sessionId",
      "type",
    ]);
    s.events.connections[0]!.send("hi");
    s.hl.broadcast("all");
    await until(() => c.ofType("message").length === 2, "messages");
    expect(c.raw.slice(1)).toEqual([
      '{"type":"message","data":"hi"}',
      '{"type":"message","data":"all"}',
    ]);
  });
});

describe("resume over ws: an upgrade abandoned while the store opened its session", () => {
  it("gives the session back when the client left before the handshake completed", async () => {
    const store = new LaggingStore();
    store.hold();
    const s = await startServer({ resume: { store } });
    cleanup = () => s.hl.close();
    const socket = connect(s.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Protocol: heartline.v1, heartline.resume\r\n\r\n",
    );
    await until(() => store.calls.includes("open:new"), "the store's open");
    socket.destroy();
    await settle();
    store.gate!.open();
    await until(() => store.calls.some((c) => c.startsWith("release:")), "the release");
    expect(s.hl.stats().sessions).toMatchObject({ live: 0, detached: 0 });
    expect(s.events.connections).toEqual([]);
  });
});

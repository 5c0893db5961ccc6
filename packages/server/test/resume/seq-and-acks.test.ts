// Inbound seq (deliver / drop and re-ack / gap → 4400), acks (one interval or 32), bad acks.
import { describe, expect, it } from "vitest";
import { INTERVAL, resumeSetup } from "./harness.js";

describe("resume: inbound sequence numbers", () => {
  it("delivers seq = last + 1, drops a replayed one and acknowledges again", () => {
    const s = resumeSetup();
    const p = s.open({});
    p.send(1, "a");
    p.send(2, "b");
    s.fc.tick(INTERVAL);
    expect(p.acks()).toEqual([2]);
    p.send(2, "b again");
    p.send(1, "a again");
    expect(s.received.map((r) => r.data)).toEqual(["a", "b"]);
    s.fc.tick(INTERVAL);
    expect(p.acks()).toEqual([2, 2]);
    expect(s.disconnects).toEqual([]);
  });

  it.each([
    ["a gap", '{"type":"message","seq":3,"data":"c"}'],
    ["a missing seq", '{"type":"message","data":"c"}'],
    ["seq 0", '{"type":"message","seq":0,"data":"c"}'],
  ])("closes 4400 on %s", (_name, frame) => {
    const s = resumeSetup();
    const p = s.open({});
    p.send(1, "a");
    p.sink.receive(frame);
    expect(p.transport.log.at(-1)).toBe("close:4400:protocol_error");
    expect(s.disconnects).toMatchObject([
      { reason: "protocol_error", code: 4400, resumable: false },
    ]);
    expect(s.received.map((r) => r.data)).toEqual(["a"]);
  });

  it("a plain v1 connection ignores a client's seq, and an ack is a bad message there", () => {
    const s = resumeSetup();
    const p = s.open();
    p.send(5, "a");
    p.send(5, "a");
    expect(s.received.map((r) => r.data)).toEqual(["a", "a"]);
    p.ack(0);
    expect(s.disconnects).toMatchObject([{ reason: "protocol_error", code: 4400 }]);
  });

  it("the sequence continues across connections: after a resume the next seq is resumed.ack + 1", () => {
    const s = resumeSetup();
    const a = s.open({});
    a.send(1, "a");
    a.lose();
    const b = s.open({ token: a.token });
    expect(b.welcome.resumed).toEqual({ ack: 1 });
    b.send(1, "a (replayed)");
    b.send(2, "b");
    expect(s.received.map((r) => r.data)).toEqual(["a", "b"]);
  });

  it("a message whose data fails the schema is received (counted, acked) but not delivered", async () => {
    const z = await import("zod");
    const { defineProtocol } = await import("@heartline/protocol");
    const s = resumeSetup(
      {},
      { protocol: defineProtocol({ client: z.string(), server: z.string() }) },
    );
    const p = s.open({});
    p.send(1, 42);
    p.send(2, "ok");
    expect(p.transport.types()).toEqual(["welcome", "error"]);
    expect(s.received.map((r) => r.data)).toEqual(["ok"]);
    s.fc.tick(INTERVAL);
    expect(p.acks()).toEqual([2]);
  });
});

describe("resume: acknowledgements", () => {
  it("acks at the latest one interval after the first unacknowledged message (none at T − 1)", () => {
    const s = resumeSetup();
    const p = s.open({});
    p.send(1, "a");
    s.fc.tick(400);
    p.send(2, "b");
    s.fc.tick(INTERVAL - 400 - 1);
    expect(p.acks()).toEqual([]);
    s.fc.tick(1);
    expect(p.acks()).toEqual([2]);
    // Nothing new: no ack.
    s.fc.tick(5 * INTERVAL);
    expect(p.acks()).toEqual([2]);
  });

  it("an ack owed rides ahead of a reply, ahead of an application close and ahead of goodbye", async () => {
    const s = resumeSetup();
    s.core.on("message", (conn, data) => {
      if (data === "echo me") conn.send(data);
    });
    const p = s.open({});
    p.send(1, "quiet");
    expect(p.acks()).toEqual([]); // nothing to carry it yet: the ack queue's, within one interval
    p.send(2, "echo me");
    const types = p.transport.sent.map((m) => (m as { type: string }).type);
    // The reply carries the ack for both, written just before it; no ack waits for the queue.
    expect(types.slice(-2)).toEqual(["ack", "message"]);
    expect(p.acks()).toEqual([2]);
    s.fc.tick(INTERVAL);
    expect(p.acks()).toEqual([2]);

    p.send(3, "then closed");
    const [conn] = [...s.core.connections()];
    conn!.close();
    expect(p.acks()).toEqual([2, 3]);

    const q = s.open({});
    q.send(1, "before shutdown");
    await Promise.race([s.core.close(), Promise.resolve()]);
    expect(q.acks()).toEqual([1]);
    const qTypes = q.transport.sent.map((m) => (m as { type: string }).type);
    expect(qTypes.slice(-2)).toEqual(["ack", "goodbye"]);
  });

  it("acks at once when 32 received messages are unacknowledged", () => {
    const s = resumeSetup();
    const p = s.open({});
    for (let i = 1; i <= 31; i++) p.send(i, i);
    expect(p.acks()).toEqual([]);
    p.send(32, 32);
    expect(p.acks()).toEqual([32]);
    for (let i = 33; i <= 64; i++) p.send(i, i);
    expect(p.acks()).toEqual([32, 64]);
    // The early acks left nothing owed: the interval passes without another.
    s.fc.tick(INTERVAL);
    expect(p.acks()).toEqual([32, 64]);
  });

  it("uses no timer per message: one ack timer for every connection", () => {
    const s = resumeSetup();
    const peers = Array.from({ length: 50 }, () => s.open({}));
    const before = s.fc.countTimers();
    for (let round = 1; round <= 10; round++) {
      for (const p of peers) p.send(round, round);
      s.fc.tick(10);
    }
    // The silence watch, the ack queue: nothing per connection or per message.
    expect(s.fc.countTimers()).toBeLessThanOrEqual(before + 1);
    s.fc.tick(INTERVAL);
    for (const p of peers) expect(p.acks()).toEqual([10]);
  });

  it("an ack counts as life", () => {
    const s = resumeSetup();
    const p = s.open({});
    s.fc.tick(2 * INTERVAL - 1);
    p.ack(0);
    s.fc.tick(2 * INTERVAL - 1);
    expect(s.disconnects).toEqual([]);
    s.fc.tick(1);
    expect(s.disconnects).toMatchObject([{ reason: "timeout", resumable: true }]);
  });

  it("an ack counts toward the rate limit", () => {
    const s = resumeSetup({}, { rateLimit: { burst: 2, perSecond: 1 } });
    const p = s.open({});
    p.ack(0);
    p.ack(0);
    expect(s.disconnects).toEqual([]);
    p.ack(0);
    expect(s.disconnects).toMatchObject([{ reason: "rate_limited", code: 4429 }]);
  });

  it("client acks free the buffer; an ack above the highest seq sent closes 4400", () => {
    const s = resumeSetup();
    const a = s.open({});
    const conn = s.conns()[0]!;
    conn.send("x");
    conn.send("y");
    a.ack(0);
    a.ack(1);
    a.ack(1);
    a.lose();
    const b = s.open({ token: a.token });
    expect(b.messages()).toEqual([[2, "y"]]);
    b.ack(3);
    expect(s.disconnects.at(-1)).toMatchObject({
      reason: "protocol_error",
      code: 4400,
      resumable: false,
    });
    expect(s.sessionEnds).toMatchObject([{ reason: "protocol_error", undelivered: ["y"] }]);
  });
});

// The core over the session-store seam, on the fake clock: the journal's
// gate (an ack says no more than the store recorded; a message is written
// only once recorded, in order), admission's store call (503 when the store
// is unreachable, the token not spent; the opened session given back when
// the upgrade is abandoned), the message listener's seq, and what another
// process causes through the hooks (sessionMoved, sessionAdopted, 4409).
import { describe, expect, it } from "vitest";
import { FakeServerTransport } from "../../../testing/src/fake-transport.js";
import type {
  AdmissionRequest,
  SessionAdoptedInfo,
  SessionMovedInfo,
  UpgradeRejection,
} from "../../src/core/index.js";
import { createServerCore } from "../../src/core/index.js";
import { INTERVAL, Peer, resumeSetup, WINDOW } from "./harness.js";
import { type LaggingSession, LaggingStore } from "./lagging-store.js";

function lagging() {
  const store = new LaggingStore();
  const s = resumeSetup({ store });
  /** The store's view of the session `sessionId` (its journal marks). */
  const session = (sessionId: string) => store.hosted(sessionId) as LaggingSession;
  return { ...s, store, session };
}

function offer(protocols: string): AdmissionRequest {
  const request = { headers: { "sec-websocket-protocol": protocols }, url: "/ws" };
  return { ...request, remoteAddress: "10.0.0.1", raw: request };
}

describe("the journal's gate", () => {
  it("acknowledges no more than the store recorded; the rest once it records", () => {
    const s = lagging();
    const p = s.open({});
    p.send(1, "a");
    p.send(2, "b");
    s.fc.tick(INTERVAL);
    // Received and delivered, but not recorded: no ack may say so yet.
    expect(s.received.map((r) => r.data)).toEqual(["a", "b"]);
    expect(p.acks()).toEqual([]);
    s.session("s1").flush(1, 0);
    expect(p.acks()).toEqual([1]);
    s.session("s1").flush();
    expect(p.acks()).toEqual([1, 2]);
    // Nothing owed any more: the next interval sends nothing.
    s.fc.tick(INTERVAL);
    expect(p.acks()).toEqual([1, 2]);
  });

  it("at 32 messages the ack still waits for the record", () => {
    const s = lagging();
    const p = s.open({});
    for (let seq = 1; seq <= 40; seq++) p.send(seq, seq);
    expect(p.acks()).toEqual([]);
    s.session("s1").flush();
    expect(p.acks()).toEqual([40]);
  });

  it("writes a message only once recorded, in order, when the store says (onRecorded)", () => {
    const s = lagging();
    const p = s.open({});
    const conn = s.conns()[0]!;
    expect(conn.send("x")).toBe(true);
    expect(conn.send("y")).toBe(true);
    expect(s.core.broadcast("z")).toBe(1);
    expect(p.messages()).toEqual([]);
    s.session("s1").flush(0, 2);
    expect(p.messages()).toEqual([
      [1, "x"],
      [2, "y"],
    ]);
    s.session("s1").flush();
    expect(p.messages()).toEqual([
      [1, "x"],
      [2, "y"],
      [3, "z"],
    ]);
    conn.send("w");
    expect(p.messages()).toHaveLength(3);
    s.session("s1").flush();
    expect(p.messages().at(-1)).toEqual([4, "w"]);
  });

  it("a resume replays the recorded range at once and the rest once recorded", () => {
    const s = lagging();
    const a = s.open({});
    s.conns()[0]!.send("x");
    s.session("s1").flush();
    a.lose();
    // Kept while waiting; not recorded yet.
    expect(s.core.session("s1")!.send("y")).toBe(true);
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ resumed: { ack: 0 } });
    expect(b.messages()).toEqual([[1, "x"]]);
    s.session("s1").flush();
    expect(b.messages()).toEqual([
      [1, "x"],
      [2, "y"],
    ]);
    expect(s.resumes).toMatchObject([{ sessionId: "s1", replayed: 2 }]);
  });

  it("a resume's welcome acknowledges what was recorded; a resent message is dropped as a duplicate", () => {
    const s = lagging();
    const a = s.open({});
    a.send(1, "a");
    a.send(2, "b");
    s.session("s1").flush(1, 0);
    a.lose();
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ resumed: { ack: 1 } });
    // The client sends 2 again: already delivered here, so dropped, and acked once recorded.
    b.send(2, "b");
    expect(s.received.map((r) => r.data)).toEqual(["a", "b"]);
    s.session("s1").flush();
    s.fc.tick(INTERVAL);
    expect(b.acks()).toEqual([2]);
  });

  it("a replaced connection is no longer called by the store's flush", () => {
    const s = lagging();
    const a = s.open({});
    const conn = s.conns()[0]!;
    conn.send("x");
    const b = s.open({ token: a.token });
    expect(a.transport.log).toContain("close:4409:replaced");
    s.session("s1").flush();
    expect(a.messages()).toEqual([]);
    expect(b.messages()).toEqual([[1, "x"]]);
  });
});

describe("the message listener's seq", () => {
  it("is the client message's seq on a resumable session, undefined on plain v1", () => {
    const s = resumeSetup();
    const seqs: (number | undefined)[] = [];
    s.core.on("message", (_conn, _data, seq) => seqs.push(seq));
    const resumable = s.open({});
    resumable.send(1, "a");
    resumable.send(2, "b");
    resumable.send(2, "b again");
    const plain = s.open();
    plain.send(undefined, "c");
    plain.send(7, "d");
    expect(seqs).toEqual([1, 2, undefined, undefined]);
  });
});

describe("admission's store call", () => {
  it("a resume that meets an unreachable store gets 503 store_unavailable with Retry-After; the token is not spent", () => {
    const store = new LaggingStore();
    const s = resumeSetup({ store });
    const rejections: UpgradeRejection[] = [];
    s.core.on("upgradeRejected", (r) => rejections.push(r));
    const a = s.open({});
    a.lose();
    store.available = false;
    const request = offer(`heartline.v1, heartline.resume.${a.token}`);
    expect(s.core.admit(request)).toEqual({
      kind: "refused",
      status: 503,
      reason: "store_unavailable",
      // As every 503 here: the reconnect window's upper bound (10 s by default).
      retryAfterSeconds: 10,
    });
    expect(rejections).toMatchObject([{ status: 503, reason: "store_unavailable" }]);
    // A new session meanwhile: plain v1 (no resume in its welcome).
    const fresh = s.core.admit(offer("heartline.v1, heartline.resume"));
    if (fresh instanceof Promise || fresh.kind !== "accepted") throw new Error("expected accepted");
    const transport = new FakeServerTransport();
    s.core.accept(transport, { auth: undefined, resume: fresh.resume });
    expect(transport.sent[0]).not.toHaveProperty("resume");
    expect(transport.sent[0]).toMatchObject({ type: "welcome", sessionId: "s2" });
    store.available = true;
    const again = s.core.admit(request);
    if (again instanceof Promise || again.kind !== "accepted") throw new Error("expected accepted");
    const b = new Peer(new FakeServerTransport(), undefined as never);
    const sink = s.core.accept(b.transport, { auth: undefined, resume: again.resume });
    expect(sink).toBeDefined();
    expect(b.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
  });

  it("stays synchronous with the in-process store", () => {
    const core = createServerCore({ resume: {} });
    expect(core.admit(offer("heartline.v1, heartline.resume"))).not.toBeInstanceOf(Promise);
  });

  it("waits for a store that answers later, and gives the session back if the client left meanwhile", async () => {
    const store = new LaggingStore();
    const s = resumeSetup({ store });
    store.hold();
    const left = new AbortController();
    const pending = s.core.admit({
      ...offer("heartline.v1, heartline.resume"),
      signal: left.signal,
    });
    expect(pending).toBeInstanceOf(Promise);
    left.abort();
    store.gate!.open();
    expect(await pending).toEqual({ kind: "abandoned" });
    expect(store.calls).toEqual(["open:new", "release:s1"]);
    expect(s.core.stats().sessions).toMatchObject({ live: 0, detached: 0 });
    expect(s.sessionEnds).toEqual([]);
  });

  it("a store answering later: accepted, the session rides to accept", async () => {
    const store = new LaggingStore();
    const s = resumeSetup({ store });
    store.hold();
    const pending = s.core.admit(offer("heartline.v1, heartline.resume"));
    store.gate!.open();
    const admission = await pending;
    if (admission.kind !== "accepted") throw new Error("expected accepted");
    const transport = new FakeServerTransport();
    s.core.accept(transport, { auth: undefined, resume: admission.resume });
    expect(transport.sent[0]).toMatchObject({ sessionId: "s1", resume: { windowMs: WINDOW } });
    expect(store.calls).toEqual(["open:new"]);
  });

  it("abandon(admission) gives an opened session back: a new one dropped, a resumed one waiting again", () => {
    const s = resumeSetup();
    const first = s.core.admit(offer("heartline.v1, heartline.resume"));
    if (first instanceof Promise || first.kind !== "accepted") throw new Error("expected accepted");
    expect(s.core.stats().sessions.live).toBe(1);
    s.core.abandon(first);
    expect(s.core.stats().sessions.live).toBe(0);
    expect(s.sessionEnds).toEqual([]);

    const a = s.open({});
    a.lose();
    const resume = s.core.admit(offer(`heartline.v1, heartline.resume.${a.token}`));
    if (resume instanceof Promise || resume.kind !== "accepted")
      throw new Error("expected accepted");
    expect(s.core.stats().sessions).toMatchObject({ live: 1, detached: 0 });
    s.core.abandon(resume);
    expect(s.core.stats().sessions).toMatchObject({ live: 0, detached: 1 });
    // The token the client presented still resumes it.
    const b = s.open({ token: a.token });
    expect(b.welcome).toMatchObject({ resumed: { ack: 0 } });
  });

  it("an accept after close() began: the opened session is gone, reported once", async () => {
    const s = resumeSetup();
    const admission = s.core.admit(offer("heartline.v1, heartline.resume"));
    if (admission instanceof Promise || admission.kind !== "accepted") throw new Error("accepted");
    const closed = s.core.close();
    s.core.accept(new FakeServerTransport(), { auth: undefined, resume: admission.resume });
    await closed;
    expect(s.core.stats().sessions).toMatchObject({ live: 0, detached: 0 });
    // Opened at admission, so the shutdown ended it: reported once, never twice.
    expect(s.sessionEnds).toMatchObject([{ sessionId: "s1", reason: "server_closed" }]);
  });
});

describe("what another process causes (the store's hooks)", () => {
  it("onMoved: the waiting session leaves this process; sessionMoved with what was not recorded", () => {
    const s = lagging();
    const moved: SessionMovedInfo[] = [];
    s.core.on("sessionMoved", (info) => moved.push(info));
    const a = s.open({});
    a.lose();
    expect(s.core.session("s1")!.send("x")).toBe(true);
    s.store.gone.add("s1");
    s.store.hooks.onMoved("s1", [{ seq: 1, data: "x" }]);
    expect(moved).toEqual([{ sessionId: "s1", undelivered: ["x"] }]);
    expect(s.core.session("s1")).toBeUndefined();
    expect(s.core.broadcast("y")).toBe(0);
    expect(s.sessionEnds).toEqual([]);
  });

  it("onReplaced from elsewhere: the connection here closes 4409 once, reported replaced, then sessionMoved", () => {
    const s = lagging();
    const moved: SessionMovedInfo[] = [];
    s.core.on("sessionMoved", (info) => moved.push(info));
    const a = s.open({});
    s.conns()[0]!.send("x");
    const owner = s.session("s1").owner!;
    s.store.gone.add("s1");
    s.store.hooks.onReplaced(owner, [{ seq: 1, data: "x" }]);
    s.store.hooks.onReplaced(owner, []);
    expect(a.transport.log.filter((l) => l.startsWith("close:"))).toEqual(["close:4409:replaced"]);
    expect(s.disconnects).toMatchObject([{ sessionId: "s1", reason: "replaced" }]);
    expect(moved).toEqual([{ sessionId: "s1", undelivered: ["x"] }]);
    expect(s.core.session("s1")).toBeUndefined();
    expect(s.sessionEnds).toEqual([]);
  });

  it("onAdopted: the session waits here with a handle (send and broadcast reach it); sessionAdopted", () => {
    const s = lagging();
    const adopted: SessionAdoptedInfo[] = [];
    s.core.on("sessionAdopted", (info) => adopted.push(info));
    // A session as a lost process left it: the store hands it over waiting.
    const inner = s.store.inner.open(
      undefined,
      { user: 9 },
      { nodeId: "node-b", connectionId: "1" },
      undefined,
      () => "lost-1",
    );
    if (inner instanceof Promise || inner.kind !== "created") throw new Error("created");
    s.store.inner.detach(inner.session, { nodeId: "node-b", connectionId: "1" });
    s.store.hooks.onAdopted(s.store.wrap(inner.session), "node-b");
    expect(adopted).toEqual([{ sessionId: "lost-1", auth: { user: 9 }, from: "node-b" }]);
    const handle = s.core.session("lost-1")!;
    expect(handle.state).toBe("waiting");
    expect(handle.send("x")).toBe(true);
    expect(s.core.broadcast("y")).toBe(1);
    expect(inner.session.unacked.size).toBe(2);
    // Its client resumes here: both replayed once recorded.
    const p = s.open({ token: inner.token }, { user: 9 } as never);
    s.session("lost-1").flush();
    expect(p.messages()).toEqual([
      [1, "x"],
      [2, "y"],
    ]);
  });
});

describe("close()", () => {
  it("calls the store's shutdown and waits for a durable store's hand-over", async () => {
    const s = lagging();
    let handedOver!: () => void;
    s.store.shutdownDone = new Promise((resolve) => {
      handedOver = resolve;
    });
    const p = s.open({});
    let closed = false;
    const closing = s.core.close().then(() => {
      closed = true;
    });
    p.lose();
    await Promise.resolve();
    await Promise.resolve();
    // Every socket is gone, but the store is still handing its sessions on.
    expect(closed).toBe(false);
    expect(s.core.state).toBe("closing");
    handedOver();
    await closing;
    expect(s.core.state).toBe("closed");
    expect(s.store.calls).toContain("shutdown");
    // A durable store's session is detached at the goodbye, not ended.
    expect(s.store.calls).toContain("detach:s1");
    expect(s.disconnects).toMatchObject([{ reason: "server_closed", resumable: true }]);
  });
});

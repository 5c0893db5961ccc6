import { describe, expect, it } from "vitest";
import type { PresenceConnectEvent } from "../src/events.js";
import { PendingChanges } from "../src/pending-changes.js";

const change = (n: number) => ({
  kind: "connect" as const,
  event: {
    type: "connect",
    nodeId: "n",
    sessionId: `s${n}`,
    identity: `u${n}`,
    connectedAt: n,
    at: n,
  } satisfies PresenceConnectEvent,
});

function drain(q: PendingChanges): string[] {
  const out: string[] = [];
  for (let op = q.peek(); op !== undefined; op = q.peek()) {
    out.push(
      op.kind === "resync"
        ? `resync(${op.snapshot.length})`
        : op.kind === "connect" || op.kind === "disconnect"
          ? op.event.sessionId
          : op.kind,
    );
    q.done(op);
  }
  return out;
}

describe("PendingChanges", () => {
  it("keeps changes in order and counts them", () => {
    const q = new PendingChanges(10);
    for (let i = 1; i <= 3; i++) expect(q.push(change(i))).toBe(0);
    expect(q.size).toBe(3);
    expect(drain(q)).toEqual(["s1", "s2", "s3"]);
    expect(q.empty).toBe(true);
  });

  it("at the bound drops the oldest change after the head (which may be in flight)", () => {
    const q = new PendingChanges(3);
    for (let i = 1; i <= 3; i++) q.push(change(i));
    expect(q.push(change(4))).toBe(1);
    expect(q.push(change(5))).toBe(1);
    expect(q.size).toBe(3);
    expect(drain(q)).toEqual(["s1", "s4", "s5"]);
  });

  it("never drops a resync, and keeps at most one, the newest, at the tail", () => {
    const q = new PendingChanges(2);
    q.push(change(1));
    q.pushResync([]);
    q.push(change(2));
    q.pushResync([change(9).event]);
    expect(drain(q)).toEqual(["s1", "s2", "resync(1)"]);
  });

  it("the op at the head is not replaced while it may be in flight", () => {
    const q = new PendingChanges(5);
    q.pushResync([]);
    const head = q.peek();
    q.pushResync([change(1).event]);
    expect(q.peek()).toBe(head);
    expect(drain(q)).toEqual(["resync(0)", "resync(1)"]);
  });

  it("done() of an op that is no longer the head changes nothing", () => {
    const q = new PendingChanges(5);
    q.push(change(1));
    q.push(change(2));
    const first = q.peek()!;
    q.done(first);
    q.done(first);
    expect(drain(q)).toEqual(["s2"]);
  });
});

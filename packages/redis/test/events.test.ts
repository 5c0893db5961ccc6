import { describe, expect, it } from "vitest";
import { PresenceReason, parseEntry, parseEventsMessage } from "../src/events.js";

const entry = { nodeId: "n1", sessionId: "s1", identity: "alice", connectedAt: 1000 };

describe("parseEventsMessage", () => {
  it.each([
    ["connect", { v: 1, events: [{ ...entry, type: "connect", at: 1000 }] }],
    [
      "disconnect",
      { v: 1, events: [{ ...entry, type: "disconnect", reason: "timeout", at: 5, code: 4000 }] },
    ],
    ["node_lost", { v: 1, events: [{ ...entry, type: "disconnect", reason: "node_lost", at: 5 }] }],
    ["empty batch", { v: 1, events: [] }],
    [
      "moved (a resumable session)",
      { v: 1, events: [{ ...entry, resumable: true, type: "moved", from: "n0", at: 7 }] },
    ],
    [
      "a session's end",
      {
        v: 1,
        events: [{ ...entry, resumable: true, type: "disconnect", reason: "expired", at: 9 }],
      },
    ],
  ])("reads %s", (_name, message) => {
    expect(parseEventsMessage(JSON.stringify(message))).toEqual(message.events);
  });

  it.each([
    ["not JSON", "nope"],
    ["another version", JSON.stringify({ v: 2, events: [] })],
    ["no events", JSON.stringify({ v: 1 })],
    ["unknown type", JSON.stringify({ v: 1, events: [{ ...entry, type: "dance", at: 1 }] })],
    [
      "unknown reason",
      JSON.stringify({ v: 1, events: [{ ...entry, type: "disconnect", reason: "x", at: 1 }] }),
    ],
    ["moved without from", JSON.stringify({ v: 1, events: [{ ...entry, type: "moved", at: 1 }] })],
    [
      "missing identity",
      JSON.stringify({ v: 1, events: [{ ...entry, identity: 3, type: "connect", at: 1 }] }),
    ],
  ])("rejects %s", (_name, text) => {
    expect(parseEventsMessage(text)).toBeUndefined();
  });

  it("every reason of the server, plus node_lost and resync, plus a session's end reasons", () => {
    expect(Object.values(PresenceReason).sort()).toEqual(
      [
        "evicted",
        "expired",
        "overflow",
        "client_closed",
        "connection_lost",
        "node_lost",
        "protocol_error",
        "rate_limited",
        "replaced",
        "resync",
        "server_closed",
        "timeout",
        "unauthorized",
      ].sort(),
    );
  });
});

describe("parseEntry", () => {
  it("keeps exactly the entry fields", () => {
    expect(parseEntry(JSON.stringify({ ...entry, extra: 1 }))).toEqual(entry);
  });
  it("keeps resumable: true (a session's record), and only true", () => {
    expect(parseEntry(JSON.stringify({ ...entry, resumable: true }))).toEqual({
      ...entry,
      resumable: true,
    });
    expect(parseEntry(JSON.stringify({ ...entry, resumable: "yes" }))).toEqual(entry);
  });
  it.each(["{}", "[]", "null", "x", JSON.stringify({ ...entry, connectedAt: "1" })])(
    "rejects %s",
    (t) => {
      expect(parseEntry(t)).toBeUndefined();
    },
  );
});

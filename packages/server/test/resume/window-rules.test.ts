// Which ends keep a resumable session for the window and which end it (PROTOCOL.md §7.6).
import { CloseCode } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import { INTERVAL, type Peer, resumeSetup, WINDOW } from "./harness.js";

type Setup = ReturnType<typeof resumeSetup>;

const kept: [string, (s: Setup, p: Peer) => void, string, number | undefined][] = [
  ["a timeout at 2X", (s) => s.fc.tick(2 * INTERVAL), "timeout", 4000],
  ["a lost connection", (_s, p) => p.lose(), "connection_lost", undefined],
  ["a client close 1001", (_s, p) => p.closeWith(1001), "client_closed", 1001],
  ["a client close 4000", (_s, p) => p.closeWith(4000), "client_closed", 4000],
  ["a client close 3000", (_s, p) => p.closeWith(3000), "client_closed", 3000],
  [
    "a slow consumer shed (1013)",
    (s, p) => {
      p.transport.bufferedAmount = 2 * 1024 * 1024;
      s.conns()[0]!.send("too much");
    },
    "server_closed",
    1013,
  ],
];

const ended: [string, (s: Setup, p: Peer) => void, string, number | undefined][] = [
  ["a client close 1000", (_s, p) => p.closeWith(1000), "client_closed", 1000],
  [
    "a client close frame without a code (1005)",
    (_s, p) => p.closeWith(1005),
    "client_closed",
    1005,
  ],
  ["the application's conn.close()", (s) => s.conns()[0]!.close(), "server_closed", 1000],
  [
    "the application's conn.close(4001)",
    (s) => s.conns()[0]!.close(4001, "bye"),
    "server_closed",
    4001,
  ],
  ["a bad message", (_s, p) => p.sink.receive("nonsense"), "protocol_error", 4400],
  ["a binary frame", (_s, p) => p.sink.receiveBinary(), "protocol_error", 1003],
  [
    "a frame the transport refused (1009)",
    (_s, p) => p.sink.refused(1009, "too big"),
    "protocol_error",
    1009,
  ],
];

describe("resume: the window rules", () => {
  it.each(kept)("%s keeps the session for the window", (_name, end, reason, code) => {
    const s = resumeSetup();
    const p = s.open({});
    s.conns()[0]!.send("kept");
    end(s, p);
    expect(s.disconnects).toHaveLength(1);
    expect(s.disconnects[0]).toMatchObject({ reason, resumable: true });
    expect(s.disconnects[0]!.code).toBe(code);
    expect(s.sessionEnds).toEqual([]);
    expect(s.core.stats().sessions).toMatchObject({ live: 0, detached: 1 });
    // Still resumable just before the window closes (the shutdown, which ends
    // sessions kept in memory, is tested in bounds-and-admission.test.ts).
    if (s.core.accepting) {
      s.fc.tick(WINDOW - 1);
      const q = s.open({ token: p.token });
      expect(q.welcome).toMatchObject({ sessionId: "s1", resumed: { ack: 0 } });
      // Everything `send` accepted, the message that shed a slow consumer included.
      const accepted = reason === "server_closed" ? ["kept", "too much"] : ["kept"];
      expect(q.messages()).toEqual(accepted.map((data, i) => [i + 1, data]));
    } else {
      s.fc.tick(WINDOW - 1);
      expect(s.sessionEnds).toEqual([]);
      s.fc.tick(1);
      expect(s.sessionEnds).toMatchObject([{ reason: "expired", undelivered: ["kept"] }]);
    }
  });

  it.each(ended)(
    "%s ends the session at once, after the disconnect",
    (_name, end, reason, code) => {
      const s = resumeSetup();
      const p = s.open({});
      s.conns()[0]!.send("lost");
      end(s, p);
      expect(s.disconnects).toHaveLength(1);
      expect(s.disconnects[0]).toMatchObject({ reason, resumable: false });
      expect(s.disconnects[0]!.code).toBe(code);
      expect(s.sessionEnds).toMatchObject([{ sessionId: "s1", reason, undelivered: ["lost"] }]);
      expect(s.log.slice(-2)).toEqual([`disconnect:s1:${reason}:false`, `sessionEnd:s1:${reason}`]);
      // A deliberately ended session is unknown to a resume.
      const q = s.open({ token: p.token });
      expect(q.welcome).toMatchObject({ sessionId: "s2", resumeFailed: "unknown" });
      s.fc.tick(WINDOW * 3);
      expect(s.sessionEnds.filter((e) => e.sessionId === "s1")).toHaveLength(1);
    },
  );

  it("a rate-limited client ends its session at once", () => {
    const s = resumeSetup({}, { rateLimit: { burst: 1, perSecond: 1 } });
    const p = s.open({});
    p.ping();
    p.ping();
    expect(s.disconnects).toMatchObject([
      { reason: "rate_limited", code: CloseCode.RateLimited, resumable: false },
    ]);
    expect(s.sessionEnds).toMatchObject([{ reason: "rate_limited", undelivered: [] }]);
  });

  it("a plain v1 connection on a resumable server reports resumable: false and no session end", () => {
    const s = resumeSetup();
    const p = s.open();
    p.lose();
    expect(s.disconnects).toMatchObject([{ reason: "connection_lost", resumable: false }]);
    s.fc.tick(WINDOW * 3);
    expect(s.sessionEnds).toEqual([]);
  });
});

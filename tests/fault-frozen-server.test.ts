// Case 2: a frozen server. SIGSTOP freezes the server process with every
// socket open (the kernel even accepts new TCP connections into the backlog),
// so clients learn nothing but silence. They must give up within their
// timeout and go to `reconnecting`; after SIGCONT every client must end with
// exactly one live session, and no session may be reported twice.
import { createClient, type HeartlineClient } from "@heartline/client";
import { DisconnectReason } from "@heartline/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEvent } from "./support/client-events.js";
import { killAllChildren } from "./support/json-lines-child.js";
import { percentile, report } from "./support/measure.js";
import { reportedTwice, type ServerChild, startServerChild } from "./support/server-child.js";

const intervalMs = 200; // X
const timeoutMs = 2 * intervalMs;
/** The same stated lateness as case 1 (timer and event-loop lag on a shared 2-core machine). */
const TOLERANCE_MS = 150;
const clientCount = 20;

describe("a frozen server (SIGSTOP, then SIGCONT)", () => {
  let server: ServerChild;
  const clients: HeartlineClient[] = [];

  beforeAll(async () => {
    server = await startServerChild({ port: 0, intervalMs });
  }, 40_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await killAllChildren();
  });

  it("clients detect it, reconnect after it wakes, no duplicate sessions or reports", async () => {
    const opened = [];
    for (let i = 0; i < clientCount; i++) {
      const client = createClient({
        url: server.url,
        connectTimeoutMs: 600,
        reconnect: { baseMs: 100, capMs: 400, stableAfterMs: 100 },
      });
      clients.push(client);
      opened.push(nextEvent(client, "open"));
      client.connect();
    }
    const firstSessions = (await Promise.all(opened)).map((o) => o.payload.sessionId);
    await server.waitForCount("the connects", (l) => l.type === "connect", clientCount);
    // Every heartbeat is flowing before the freeze.
    await Promise.all(clients.map((c) => nextEvent(c, "pong")));

    const detected = clients.map((c) => nextEvent(c, "disconnect"));
    server.signal("SIGSTOP");
    const stoppedAt = Date.now();
    const detections = (await Promise.all(detected)).map(({ payload, at }) => {
      expect(payload).toMatchObject({ reason: DisconnectReason.Timeout, willReconnect: true });
      return at - stoppedAt;
    });
    for (const c of clients) expect(c.state).toBe("reconnecting");
    expect(Math.max(...detections)).toBeLessThanOrEqual(timeoutMs + TOLERANCE_MS);

    // The freeze lasts until every client has also seen an attempt fail on the frozen server.
    await Promise.all(clients.map((c) => nextEvent(c, "disconnect", undefined, 5000)));
    const reopened = clients.map((c) => nextEvent(c, "open", undefined, 10_000));
    server.signal("SIGCONT");
    const continuedAt = Date.now();
    const back = await Promise.all(reopened);
    const sessions = back.map((b) => b.payload.sessionId);
    for (const id of sessions) expect(firstSessions).not.toContain(id);

    // Every connection the server ever accepted that is not a client's current
    // one (the pre-freeze sessions, and any attempt it accepted from its
    // backlog after the client had given up) is reported once.
    const current = new Set(sessions);
    for (const connect of server.connects()) {
      const id = connect.sessionId as string;
      if (!current.has(id)) await server.disconnectOf(id);
    }
    const open = await server.open();
    expect(open.sessions.sort()).toEqual([...sessions].sort());
    expect(reportedTwice(server.lines, "connect")).toEqual([]);
    expect(reportedTwice(server.lines, "disconnect")).toEqual([]);
    const oldReports = server.disconnects().filter((d) => firstSessions.includes(d.sessionId));
    expect(oldReports).toHaveLength(clientCount);
    for (const c of clients) expect(c.state).toBe("open");

    const countBy = (reports: ReadonlyArray<{ reason: string }>) => {
      const counts: Record<string, number> = {};
      for (const d of reports) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
      return counts;
    };
    report("frozen-server", {
      intervalMs,
      timeoutMs,
      toleranceMs: TOLERANCE_MS,
      clients: clientCount,
      clientDetectP50Ms: percentile(detections, 50),
      clientDetectMaxMs: Math.max(...detections),
      frozenMs: continuedAt - stoppedAt,
      allBackAfterContMs: Math.max(...back.map((b) => b.at)) - continuedAt,
      oldSessionReports: countBy(oldReports),
      // Accepted from the backlog after SIGCONT, after their client had given up.
      ghostSessions: countBy(
        server.disconnects().filter((d) => !firstSessions.includes(d.sessionId)),
      ),
    });
  }, 40_000);
});

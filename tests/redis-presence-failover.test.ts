// Issue 25, point 6, across a SIGKILL: two server processes
// (tests/fixtures/redis/session-node.ts: the Redis session store, presence
// with orphanWindowMs = the resume window) on the real redis-server of
// REDIS_URL. Node a is killed with a resumable session and a plain v1
// connection on it: the plain one is reported node_lost at the reap, the
// session is not; b adopts it, the client resumes on b, and presence
// reports the session once, at its end, with its reason.
import { SUBPROTOCOL } from "@heartline/protocol";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  requireRedisUrl,
  skipRedisTests,
  uniquePrefix,
} from "../packages/redis/test/support/redis-env.js";
import { rawSession } from "./support/raw-session.js";
import { type SessionCluster, startSessionCluster } from "./support/session-cluster.js";
import { until } from "./support/stream-client.js";

let cluster: SessionCluster | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await cluster?.stop();
  cluster = undefined;
});

describe.skipIf(skipRedisTests)(
  "presence over sessions across a SIGKILL (server processes)",
  () => {
    it("a SIGKILLed node: its plain connection is node_lost, its session stays online, is adopted, resumes on the survivor, and ends once with its reason", async () => {
      cluster = await startSessionCluster(["a", "b"], {
        redisUrl: requireRedisUrl(),
        keyPrefix: uniquePrefix("presence-kill"),
        intervalMs: 200,
        windowMs: 20_000,
        nodeTtlMs: 1500,
        nodeHeartbeatMs: 300,
      });
      const a = cluster.node("a");
      const b = cluster.node("b");
      // What b's presence subscriber saw for one identity (connect/disconnect only, as a default subscriber).
      const seen = (user: string): string[] =>
        b
          .lines("presence")
          .map(
            (l) => l.event as { type: string; identity: string; reason?: string; nodeId: string },
          )
          .filter((e) => e.identity === user)
          .map((e) => (e.type === "connect" ? `connect@${e.nodeId}` : `${e.type} ${e.reason}`));

      const sue = await rawSession(a.url("sue"));
      sue.beat(100);
      sockets.push(sue.ws);
      // A plain v1 client (no resumption offered), kept alive by its pings.
      const pete = new WebSocket(a.url("pete"), SUBPROTOCOL);
      pete.on("error", () => {});
      sockets.push(pete);
      await new Promise((resolve) => pete.once("open", resolve));
      let n = 0;
      const pinger = setInterval(() => {
        if (pete.readyState === WebSocket.OPEN)
          pete.send(JSON.stringify({ type: "ping", seq: n++ }));
      }, 100);
      try {
        await until("both online", () => seen("sue").length === 1 && seen("pete").length === 1);

        cluster.down.add("a");
        cluster.markLost("a");
        await a.kill();
        await until("pete reported node_lost (the reap)", () => seen("pete").length === 2, 10_000);
        await until(
          "sue's session adopted by b",
          () => b.lines("sessionAdopted", sue.welcome.sessionId).length === 1,
          10_000,
        );
        expect(seen("pete")).toEqual(["connect@a", "disconnect node_lost"]);
        expect(seen("sue")).toEqual(["connect@a"]);

        const back = await rawSession(b.url("sue"), sue.welcome.resume!.token);
        sockets.push(back.ws);
        expect(back.welcome).toMatchObject({ sessionId: sue.welcome.sessionId, resumed: {} });
        expect(seen("sue")).toEqual(["connect@a"]);
        back.ws.close(1000);
        await until("sue's session end", () => seen("sue").length === 2, 5000);
        expect(seen("sue")).toEqual(["connect@a", "disconnect client_closed"]);
        expect(b.lines("sessionEnd", sue.welcome.sessionId)).toMatchObject([
          { reason: "client_closed" },
        ]);
      } finally {
        clearInterval(pinger);
      }
    }, 30_000);
  },
);

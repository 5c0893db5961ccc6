// @heartline/client on Bun's and Deno's global WebSocket, each in its own
// process (tests/support/runtime-client.ts), against a Node server here
// behind a TCP relay the test controls: heartbeats on the welcome's terms, a
// dead server detected at timeoutMs, a reconnect, and a resume that replays
// what was lost, exactly once.
import net from "node:net";
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import { type Connection, createServer, type HeartlineServer } from "@heartline/server";
import { afterAll, describe, expect, it } from "vitest";
import { killAllChildren, spawnJsonLinesChild } from "./support/json-lines-child.js";

const intervalMs = 150; // the client pings every 150 ms and gives up on a server silent 300 ms

afterAll(async () => {
  await killAllChildren();
});

/**
 * A TCP relay in front of the server. `silence()` stops passing the server's
 * bytes to the clients already connected (they are dropped, as on a dead
 * path), while the clients' bytes still reach the server; new connections
 * are relayed normally.
 */
async function startRelay(target: number) {
  const pairs: Array<{ client: net.Socket; upstream: net.Socket; silenced: boolean }> = [];
  const relay = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    const pair = { client, upstream, silenced: false };
    pairs.push(pair);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (!pair.silenced) client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    silence: () => {
      for (const pair of pairs) pair.silenced = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) pair.client.destroy();
        relay.close(() => resolve());
      }),
  };
}

describe.each(["bun", "deno"] as const)("@heartline/client on %s", (runtime) => {
  let server: HeartlineServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it("pings on the welcome's terms, detects a silent server at timeoutMs, reconnects, and resumes with replay", async () => {
    const connections: Connection[] = [];
    const resumes: string[] = [];
    server = createServer({
      port: 0,
      host: "127.0.0.1",
      intervalMs,
      resume: { windowMs: 10_000 },
      closeTimeoutMs: 200,
      on: {
        connection: (conn) => connections.push(conn),
        message: (conn, data) => conn.send({ echo: data }),
        resume: (info) => resumes.push(info.sessionId),
      },
    });
    await server.listening;
    const relay = await startRelay((server.address() as net.AddressInfo).port);
    try {
      const client = await spawnJsonLinesChild("./runtime-client.ts", {
        name: `${runtime} client`,
        runtime,
        env: { HL_CLIENT: JSON.stringify({ url: `ws://127.0.0.1:${relay.port}/ws` }) },
      });
      const open = await client.waitFor("the open", (l) => l.type === "open", {
        timeoutMs: 30_000,
      });
      expect(open).toMatchObject({ resumed: false, intervalMs, websocket: "WebSocket" });

      // Heartbeats: pongs keep coming and the server never times it out (2X = 300 ms).
      await client.waitForCount("5 pongs", (l) => l.type === "pong", 5, { timeoutMs: 5000 });
      expect(client.lines.filter((l) => l.type === "disconnect")).toEqual([]);
      expect(server.stats().disconnects.timeout).toBe(0);

      // An echo, over the resumable session.
      await client.request("send", { data: { n: 1 } });
      await client.waitFor("the echo", (l) => l.type === "message");

      // The path goes dead one way: the client's pings still reach the server, nothing comes back.
      relay.silence();
      const from = client.lines.length;
      connections[0]!.send({ lost: "in the relay" });
      const gone = await client.waitFor("the client's verdict", (l) => l.type === "disconnect", {
        from,
      });
      expect(gone).toMatchObject({
        reason: DisconnectReason.Timeout,
        code: CloseCode.HeartbeatTimeout,
        willReconnect: true,
        willResume: true,
      });
      // Detected at timeoutMs (the client's timer), never before.
      expect(gone.detectedAfterMs as number).toBeGreaterThanOrEqual(2 * intervalMs);
      expect(gone.detectedAfterMs as number).toBeLessThan(2 * intervalMs + 1000);

      // It reconnects on its own and resumes: same session, the lost message replayed once.
      const reopened = await client.waitFor("the resumed open", (l) => l.type === "open", { from });
      expect(reopened).toMatchObject({ sessionId: open.sessionId, resumed: true });
      await client.waitFor(
        "the replay",
        (l) => l.type === "message" && "lost" in (l.data as object),
        {
          from,
        },
      );
      expect(resumes).toEqual([open.sessionId]);
      // Exactly once: nothing else is replayed later.
      await client.request("send", { data: { n: 2 } });
      await client.waitFor(
        "the second echo",
        (l) =>
          l.type === "message" &&
          "echo" in (l.data as object) &&
          (l.data as { echo: { n: number } }).echo.n === 2,
        { from },
      );
      const messages = client.lines.filter((l) => l.type === "message").map((l) => l.data);
      expect(messages).toEqual([{ echo: { n: 1 } }, { lost: "in the relay" }, { echo: { n: 2 } }]);
      await client.request("close");
    } finally {
      await relay.close();
    }
  });
});

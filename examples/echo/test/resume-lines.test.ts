// The demo's resume lines, in-process on 127.0.0.1, port 0, with a Node
// client: a connection that drops abruptly (its socket terminated, no close
// frame) comes back into the same session and is printed as one `resume`
// line; a deliberate close ends the session, printed as one `session_end`
// line; with the window 0 there is neither. Every wait is for an event.
import { createClient, type HeartlineClient } from "@heartline/client";
import { DisconnectReason } from "@heartline/protocol";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type EchoEvent, type EchoServer, startEchoServer } from "../echo-server.js";

const servers: EchoServer[] = [];
const clients: HeartlineClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) await server.close();
});

function until<T>(what: string, check: () => T | undefined, ms = 10_000): Promise<T> {
  const started = Date.now();
  return new Promise<T>((resolve, reject) => {
    const poll = () => {
      const value = check();
      if (value !== undefined) resolve(value);
      else if (Date.now() - started > ms) reject(new Error(`no ${what} within ${ms} ms`));
      else setImmediate(poll);
    };
    poll();
  });
}

async function start(resumeWindowMs?: number) {
  const events: EchoEvent[] = [];
  const push = (e: EchoEvent) => void events.push(e);
  const server = await startEchoServer({
    port: 0,
    intervalMs: 1000,
    reconnectWindow: { minMs: 0, maxMs: 0 },
    ...(resumeWindowMs === undefined ? {} : { resumeWindowMs }),
    on: { connect: push, disconnect: push, resume: push, sessionEnd: push },
  });
  servers.push(server);
  // Every socket the client opens, so the test can cut one without a close frame.
  const sockets: WebSocket[] = [];
  class Recorded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const client = createClient<string, string>({
    url: `${server.url.replace("http", "ws")}ws`,
    WebSocket: Recorded as never,
    reconnect: { baseMs: 10, capMs: 20 },
  });
  clients.push(client as HeartlineClient);
  const replays: number[] = [];
  client.on("resumed", ({ replayed }) => void replays.push(replayed));
  client.connect();
  await until("the first connect", () => events.find((e) => e.event === "connect"));
  // The welcome (and its resume token) reached the client.
  await until("the client open", () => (client.state === "open" ? true : undefined));
  return { server, events, sockets, client, replays };
}

const atFormat = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("the demo's resume and session_end lines", () => {
  it("a dropped connection resumes (one resume line, same session); a deliberate close ends it (one session_end line)", async () => {
    const { events, sockets, client } = await start();
    const sessionId = client.sessionId!;
    sockets[0]!.terminate(); // the connection is lost, not closed: the session stays resumable
    const resume = await until("the resume line", () => events.find((e) => e.event === "resume"));
    expect(resume).toEqual({ event: "resume", sessionId, at: expect.stringMatching(atFormat) });
    await until("the client open again", () => (client.state === "open" ? true : undefined));
    expect(client.sessionId).toBe(sessionId);

    client.close();
    const end = await until("the session_end line", () =>
      events.find((e) => e.event === "session_end"),
    );
    expect(end).toEqual({
      event: "session_end",
      sessionId,
      reason: DisconnectReason.ClientClosed,
      undelivered: 0,
      at: expect.stringMatching(atFormat),
    });
    // The first connection's disconnect, the resumed one's, and nothing twice.
    expect(events.map((e) => e.event)).toEqual([
      "connect",
      "disconnect",
      "connect",
      "resume",
      "disconnect",
      "session_end",
    ]);
    expect(events[1]).toMatchObject({ reason: DisconnectReason.ConnectionLost, code: null });
  });

  it("RESUME_WINDOW_MS=0: resumption off, a new session after a drop, no resume or session_end lines", async () => {
    const { events, sockets, client } = await start(0);
    const first = client.sessionId!;
    sockets[0]!.terminate();
    await until("the second connect", () =>
      events.filter((e) => e.event === "connect").length === 2 ? true : undefined,
    );
    await until("the client open on a new session", () =>
      client.state === "open" && client.sessionId !== first ? true : undefined,
    );
    client.close();
    await until("the last disconnect", () =>
      events.filter((e) => e.event === "disconnect").length === 2 ? true : undefined,
    );
    expect(events.map((e) => e.event)).toEqual(["connect", "disconnect", "connect", "disconnect"]);
  });
});

// Issue 21, point 7: one client cannot deny resumption to everyone. Over real
// loopback sockets, a flooder opens and drops connections offering
// `heartline.resume` in a loop (what took the whole `maxSessions` table of
// `pnpm demo` in 68 s). Its waiting sessions are bounded by
// `maxWaitingPerAddress`: each one past the bound evicts its own oldest,
// reported `sessionEnd` `evicted` once and counted; another client's session
// waiting meanwhile still resumes, and a newcomer still gets a resumable
// session. Bounded: 600 connections, scaled-down bounds, every wait timed.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import {
  PROTOCOL_VERSION,
  RESUME_SUBPROTOCOL,
  RESUME_TOKEN_OFFER_PREFIX,
  SUBPROTOCOL,
  type WelcomeMessage,
} from "@heartline/protocol";
import { createServer, type HeartlineServer, type SessionEndInfo } from "@heartline/server";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { within } from "./support/raw-client.js";

const FLOOD = 600;
const PER_ADDRESS = 50;
const TABLE = 200;

let hl: HeartlineServer | undefined;
afterEach(async () => {
  await hl?.close();
  hl = undefined;
});

/** Opens a connection as `client` (the `x-client` header names its address), offering resumption; resolves with its welcome. */
async function open(
  url: string,
  client: string,
  token?: string,
): Promise<{ ws: WebSocket; welcome: WelcomeMessage }> {
  const offer = token === undefined ? RESUME_SUBPROTOCOL : `${RESUME_TOKEN_OFFER_PREFIX}${token}`;
  const ws = new WebSocket(url, [SUBPROTOCOL, offer], { headers: { "x-client": client } });
  ws.on("error", () => {});
  const [data] = (await within(once(ws, "message"), 5000, `welcome for ${client}`)) as [Buffer];
  return { ws, welcome: JSON.parse(data.toString()) as WelcomeMessage };
}

/** Drops the link without a close frame (the server keeps the session for its window). */
async function drop(ws: WebSocket): Promise<void> {
  const closed = once(ws, "close");
  ws.terminate();
  await within(closed, 5000, "socket closed");
}

describe("a flood of dropped resumable connections from one address", () => {
  it(`bounds its waiting sessions at ${PER_ADDRESS}, evicting its own oldest; others keep resuming`, async () => {
    const ends: SessionEndInfo[] = [];
    const errors: string[] = [];
    hl = createServer({
      port: 0,
      host: "127.0.0.1",
      // The flooder and the others all come from 127.0.0.1: the header stands for their addresses.
      addressOf: (req) => req.headers["x-client"] as string | undefined,
      resume: { maxSessions: TABLE, maxWaitingPerAddress: PER_ADDRESS },
      on: {
        sessionEnd: (info) => ends.push(info),
        error: (error) => errors.push(error.code),
      },
    });
    await hl.listening;
    const url = `ws://127.0.0.1:${(hl.address() as AddressInfo).port}/ws`;

    // Alice drops before the flood; her session waits for her.
    const alice = await open(url, "alice");
    expect(alice.welcome.protocol).toBe(PROTOCOL_VERSION);
    await drop(alice.ws);

    const started = Date.now();
    for (let i = 0; i < FLOOD; i++) {
      const { ws, welcome } = await open(url, "mallory");
      // Every flooding connection still got a resumable session: the bound evicts, it does not refuse.
      expect(welcome.resume).toBeDefined();
      await drop(ws);
    }
    const floodMs = Date.now() - started;
    // The client's side of the last drop is immediate; wait (bounded) for the server's.
    await within(
      (async () => {
        while (hl!.stats().sessions.live > 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      "the server saw every drop",
    );

    const evicted = ends.filter((e) => e.reason === "evicted");
    expect(evicted).toHaveLength(FLOOD - PER_ADDRESS);
    expect(new Set(evicted.map((e) => e.sessionId)).size).toBe(evicted.length);
    expect(ends).toHaveLength(evicted.length);
    const sessions = hl.stats().sessions;
    expect(sessions).toMatchObject({ detached: PER_ADDRESS + 1, evicted: FLOOD - PER_ADDRESS });
    expect(sessions.refused).toBe(0);

    // Alice comes back: her session is still there.
    const back = await open(url, "alice", alice.welcome.resume!.token);
    expect(back.welcome.resumed).toEqual({ ack: 0 });
    expect(back.welcome.sessionId).toBe(alice.welcome.sessionId);
    // A newcomer still gets a resumable session.
    const newcomer = await open(url, "bob");
    expect(newcomer.welcome.resume).toBeDefined();
    expect(errors).toEqual([]);
    back.ws.close();
    newcomer.ws.close();
    console.log(
      JSON.stringify({
        fault: "session-flood",
        connections: FLOOD,
        floodMs,
        evicted: evicted.length,
        waiting: sessions.detached,
      }),
    );
  }, 60_000);
});

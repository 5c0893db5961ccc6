// Credentials and refusals over real sockets (127.0.0.1, port 0), Node's
// `ws` under the client: the credentials subprotocol reaches `authenticate`
// through `credentialsOf` and is never selected; a refused upgrade's HTTP
// status is reported as its own reason; `closeUnauthorized` answers 4401.
// Timing rules are on the fake clock in packages/client/test/attempts.test.ts.
import type { AddressInfo } from "node:net";
import { type ClientEvents, createClient, type HeartlineClient } from "@heartline/client";
import {
  createServer,
  credentialsOf,
  type HeartlineServer,
  type ServerOptions,
} from "@heartline/server";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { nextEvent } from "./support/client-events.js";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

type Options = Partial<ServerOptions<unknown, unknown, unknown>>;

/** A server whose `authenticate` accepts the credentials "good" (`authenticate: false` in `extra`: none). */
async function serve(extra: Omit<Options, "authenticate"> & { authenticate?: false } = {}) {
  const seen: Array<string | undefined> = [];
  const rejected: number[] = [];
  const { authenticate, ...options } = extra;
  const hl: HeartlineServer<unknown, unknown, unknown> = createServer<unknown, unknown, unknown>({
    port: 0,
    host: "127.0.0.1",
    on: { upgradeRejected: (r) => rejected.push(r.status) },
    ...options,
    ...(authenticate === false
      ? {}
      : {
          authenticate: (request) => {
            const token = credentialsOf(request);
            seen.push(token);
            return token === "good" ? { user: "ann" } : false;
          },
        }),
  });
  await hl.listening;
  open.push(hl);
  const url = `ws://127.0.0.1:${(hl.address() as AddressInfo).port}/ws`;
  return { hl, url, seen, rejected };
}

function record(client: HeartlineClient) {
  const disconnects: Array<ClientEvents["disconnect"]> = [];
  const errors: string[] = [];
  client.on("disconnect", (d) => disconnects.push(d));
  client.on("error", (e) => errors.push(e.code));
  open.push(client);
  return { disconnects, errors };
}

describe("credentials over a real socket", () => {
  it("reach authenticate through credentialsOf, fresh for each attempt; the server selects heartline.v1 only", async () => {
    const { url, seen } = await serve();
    const tokens = ["good", "good"];
    const client = createClient({ url, credentials: async () => tokens.shift() ?? "none" });
    record(client);
    const opened = nextEvent(client, "open");
    client.connect();
    await opened;
    expect(seen).toEqual(["good"]);
    // A raw ws client sees what the server answered in Sec-WebSocket-Protocol.
    const raw = new WebSocket(url, ["heartline.v1", "heartline.auth.good"]);
    await new Promise((resolve) => raw.once("open", resolve));
    expect(raw.protocol).toBe("heartline.v1");
    raw.terminate();
  });
});

describe("refusals a Node client can read", () => {
  it("401 (plain): unauthorized with status 401, fresh credentials once, then closed", async () => {
    const { url, seen, rejected } = await serve();
    let n = 0;
    const client = createClient({
      url,
      credentials: () => `bad${++n}`,
      reconnect: { baseMs: 10 },
    });
    const { disconnects, errors } = record(client);
    const closed = nextEvent(client, "state", (s) => s.state === "closed");
    client.connect();
    await closed;
    expect(disconnects).toEqual([
      expect.objectContaining({ reason: "unauthorized", status: 401, willReconnect: true }),
      { reason: "unauthorized", status: 401, willReconnect: false, willResume: false },
    ]);
    expect(seen).toEqual(["bad1", "bad2"]);
    expect(rejected).toEqual([401, 401]);
    expect(errors).toEqual([]); // no socket_error: the disconnect says it
  });

  it("403 (origin not allowed): refused with status 403, never retried", async () => {
    const { url } = await serve({
      authenticate: false,
      allowedOrigins: ["https://app.example"],
    });
    const client = createClient({
      url,
      WebSocket: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { origin: "https://evil.example" });
        }
      } as never,
    });
    const { disconnects } = record(client);
    const closed = nextEvent(client, "state", (s) => s.state === "closed");
    client.connect();
    await closed;
    expect(disconnects).toEqual([
      { reason: "refused", status: 403, willReconnect: false, willResume: false },
    ]);
  });

  it("503 server full with Retry-After: retried after that delay", async () => {
    const { url } = await serve({
      authenticate: false,
      maxConnections: 1,
      // Retry-After is the goodbye window's end, in whole seconds.
      reconnectWindow: { minMs: 1000, maxMs: 7000 },
    });
    const taken = new WebSocket(url, ["heartline.v1"]);
    open.push({ close: () => taken.terminate() });
    await new Promise((resolve) => taken.once("open", resolve));
    const client = createClient({ url });
    const { disconnects } = record(client);
    const first = nextEvent(client, "disconnect");
    client.connect();
    await first;
    expect(disconnects).toEqual([
      { reason: "refused", status: 503, willReconnect: true, willResume: false, delayMs: 7000 },
    ]);
  });
});

describe("closeUnauthorized: a refusal a browser can read", () => {
  it("is off by default (a plain 401) and must be a boolean", async () => {
    const { url } = await serve();
    const raw = new WebSocket(url, ["heartline.v1", "heartline.auth.bad"]);
    const status = await new Promise<number | undefined>((resolve) =>
      raw.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode);
        res.destroy();
      }),
    );
    expect(status).toBe(401);
    expect(() =>
      createServer({ noServer: true, closeUnauthorized: "yes" as unknown as boolean }),
    ).toThrow(
      expect.objectContaining({
        code: "invalid_option",
        message: expect.stringMatching(/^closeUnauthorized/),
      }),
    );
  });

  it("accepts the upgrade, answers heartline.v1, closes 4401 unauthorized at once, sends no welcome", async () => {
    const { url, rejected } = await serve({ closeUnauthorized: true, closeTimeoutMs: 5000 });
    const started = Date.now();
    const raw = new WebSocket(url, ["heartline.v1", "heartline.auth.bad"]);
    const frames: string[] = [];
    raw.on("message", (data) => frames.push(String(data)));
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      raw.once("close", (c, r) => resolve([c, String(r)])),
    );
    expect(raw.protocol).toBe("heartline.v1");
    expect([code, reason]).toEqual([4401, "unauthorized"]);
    expect(frames).toEqual([]);
    // The server read the client's answer to its close and let the socket go:
    // not held until closeTimeoutMs (the socket is outside the capacity limits meanwhile).
    expect(Date.now() - started).toBeLessThan(2500);
    expect(rejected).toEqual([401]);
  });

  it("the client takes 4401 like 401: fresh credentials once, then unauthorized for good", async () => {
    const { url, seen } = await serve({ closeUnauthorized: true });
    let n = 0;
    const client = createClient({ url, credentials: () => `bad${++n}`, reconnect: { baseMs: 10 } });
    const { disconnects } = record(client);
    const closed = nextEvent(client, "state", (s) => s.state === "closed");
    client.connect();
    await closed;
    expect(disconnects.map((d) => [d.reason, d.code, d.willReconnect])).toEqual([
      ["unauthorized", 4401, true],
      ["unauthorized", 4401, false],
    ]);
    expect(seen).toEqual(["bad1", "bad2"]);
  });
});

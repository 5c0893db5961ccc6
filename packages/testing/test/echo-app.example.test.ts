// How an application team tests its Heartline app: here the echo demo's
// behaviour (the server echoes every message). Written against the public
// API only, and run over both transports: in memory (no sockets) and once
// more over real loopback sockets, with the same fake clock.
import { createHarness, type Harness } from "@heartline/testing";
import { afterEach, describe, expect, it } from "vitest";

const X = 500; // the heartbeat interval; the server gives up after 2X of silence

/** The app under test: the echo server's options (its real code would export them). */
const echoServer = {
  intervalMs: X,
  reconnectWindow: { minMs: 100, maxMs: 300 },
  on: {
    message: (conn: { send(data: unknown): boolean }, data: unknown) => {
      conn.send(data);
    },
  },
};

describe.each(["memory", "loopback"] as const)("the echo app (%s)", (transport) => {
  let harness: Harness;

  afterEach(async () => {
    await harness.close();
  });

  it("echoes a message back", async () => {
    harness = await createHarness({ transport, server: echoServer });
    const client = await harness.client();
    const replies: unknown[] = [];
    client.on("message", (data) => replies.push(data));
    await harness.waitFor.clientState(client, "open");
    client.send({ text: "hello" });
    await harness.waitFor.frame({ direction: "toClient", type: "message" });
    expect(replies).toEqual([{ text: "hello" }]);
  });

  it("disconnects a silent client at exactly 2X (alive at 2X − 1 ms)", async () => {
    harness = await createHarness({ transport, server: echoServer });
    const client = await harness.client();
    await harness.waitFor.clientState(client, "open");
    const connectedAt = harness.now;
    client.heartbeat.pause(); // the client goes silent

    await harness.expectNo.disconnect({ client }, { within: 2 * X - 1 });
    const gone = await harness.waitFor.disconnect({ client }, { within: 1 });

    expect(gone.reason).toBe("timeout");
    expect(gone.code).toBe(4000);
    expect(gone.at - connectedAt).toBe(2 * X);
  });

  it("stays connected while it pings", async () => {
    harness = await createHarness({ transport, server: echoServer });
    const client = await harness.client();
    await harness.waitFor.clientState(client, "open");
    await harness.expectNo.disconnect({ client }, { within: 10 * X });
    expect(client.state).toBe("open");
  });

  it("reconnects after goodbye, inside the server's window", async () => {
    harness = await createHarness({ transport, server: echoServer });
    const client = await harness.client();
    await harness.waitFor.clientState(client, "open");
    const firstSession = client.sessionId;

    await harness.stopServer(); // goodbye { minMs: 100, maxMs: 300 }, then 1001
    const { payload, at } = await harness.waitFor.clientEvent(client, "disconnect", undefined, {
      since: 0,
    });
    expect(payload).toMatchObject({ reason: "server_closed", code: 1001, willReconnect: true });
    await harness.startServer();

    await harness.waitFor.clientState(client, "open", { within: 300 });
    const waited = harness.now - at;
    expect(waited).toBeGreaterThanOrEqual(100);
    expect(waited).toBeLessThanOrEqual(300);
    expect(client.sessionId).not.toBe(firstSession);
  });
});

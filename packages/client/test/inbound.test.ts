// What the client does with each kind of frame the server sends.
import { defineProtocol } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { createClient } from "../src/index.js";
import { FakeSocket, fakeClock, microtask, setup } from "./support/fakes.js";

/** Runs `run`, lets microtasks and one macrotask pass, and returns what went uncaught meanwhile. */
async function uncaughtDuring(run: () => void | Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  const onUncaught = (error: unknown) => errors.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off("uncaughtException", onUncaught);
  }
  return errors;
}

const terms = { intervalMs: 1000, timeoutMs: 2000 };
const protocol = defineProtocol({
  server: z.object({ from: z.string(), text: z.string() }),
});

async function opened() {
  const t = setup({ protocol });
  t.client.connect();
  await microtask();
  t.socket.welcome(terms);
  return t;
}

describe("inbound frames", () => {
  it("delivers a message whose data passes protocol.server, typed", async () => {
    const t = await opened();
    t.socket.receive({ type: "message", data: { from: "ann", text: "hi" }, extra: 1 });
    expect(t.events.message).toEqual([{ from: "ann", text: "hi" }]);
    const first = t.events.message[0] as { from: string; text: string };
    expect(first.from).toBe("ann");
  });

  it("reports data that fails protocol.server and does not deliver it", async () => {
    const t = await opened();
    t.socket.receive({ type: "message", data: { from: "ann" } });
    expect(t.events.message).toEqual([]);
    expect(t.events.error).toHaveLength(1);
    expect(t.events.error[0]).toMatchObject({ code: "invalid_inbound", data: { from: "ann" } });
    expect(t.events.error[0]!.message).toMatch(/text/);
    expect(t.client.state).toBe("open");
  });

  it("ignores a type it does not know, silently (forward compatibility)", async () => {
    const t = await opened();
    t.socket.receive({ type: "presence", who: ["ann"] });
    expect(t.events.error).toEqual([]);
    expect(t.events.message).toEqual([]);
    expect(t.client.state).toBe("open");
  });

  it.each([
    ["not JSON", "hello"],
    ["not an object", "[1,2]"],
    ["a bad envelope", '{"type":"pong","seq":-1}'],
    ["a message without data", '{"type":"message"}'],
    ["a binary frame", new Uint8Array([1, 2])],
  ])("reports %s as invalid_message and stays open", async (_name, frame) => {
    const t = await opened();
    t.socket.receive(frame);
    expect(t.events.error.map((e) => e.code)).toEqual(["invalid_message"]);
    expect(t.client.state).toBe("open");
  });

  it("reports the server's soft error with the server's code", async () => {
    const t = await opened();
    t.socket.receive({ type: "error", code: "invalid_payload", message: "data.text: required" });
    expect(t.events.error).toHaveLength(1);
    expect(t.events.error[0]).toMatchObject({
      name: "HeartlineClientError",
      code: "invalid_payload",
      message: "data.text: required",
    });
  });

  it("takes only the first welcome of a connection", async () => {
    const t = await opened();
    t.socket.receive({
      type: "welcome",
      protocol: 1,
      sessionId: "s_other",
      heartbeat: { intervalMs: 10, timeoutMs: 20 },
    });
    expect(t.client.sessionId).toBe("s_1");
    await t.fc.tickAsync(100);
    expect(t.socket.pings).toEqual([]);
  });
});

describe("listeners", () => {
  it("can be given up front and see the very first state change", async () => {
    const states: string[] = [];
    const t = setup({ on: { state: ({ state }) => states.push(state) } });
    t.client.connect();
    await microtask();
    expect(states).toEqual(["connecting"]);
  });

  it("unsubscribe stops delivery", async () => {
    const t = setup();
    const seen: unknown[] = [];
    const off = t.client.on("message", (data) => seen.push(data));
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.receive({ type: "message", data: 1 });
    off();
    t.socket.receive({ type: "message", data: 2 });
    expect(seen).toEqual([1]);
  });

  it("a throwing listener does not break the client or the other listeners: error gets listener_threw", async () => {
    const t = setup();
    const bug = new Error("listener bug");
    const uncaught = await uncaughtDuring(async () => {
      t.client.on("open", () => {
        throw bug;
      });
      t.client.connect();
      await microtask();
      t.socket.welcome(terms);
      expect(t.events.open).toHaveLength(1);
      expect(t.client.state).toBe("open");
    });
    expect(t.events.error).toHaveLength(1);
    expect(t.events.error[0]).toMatchObject({ code: "listener_threw", cause: bug });
    expect(t.events.error[0]!.message).toMatch(/"open" listener threw/);
    expect(uncaught).toEqual([]);
  });

  it("with no error listener, a listener's throw is rethrown on a microtask (uncaught), once", async () => {
    const sockets: FakeSocket[] = [];
    const client = createClient({
      url: "ws://test/ws",
      WebSocket: class extends FakeSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      },
      clock: fakeClock().clock,
    });
    const bug = new Error("listener bug");
    const opened: unknown[] = [];
    const uncaught = await uncaughtDuring(async () => {
      client.on("open", () => {
        throw bug;
      });
      client.on("open", (e) => opened.push(e));
      client.connect();
      await microtask();
      sockets[0]!.welcome(terms);
      expect(opened).toHaveLength(1);
      expect(client.state).toBe("open");
    });
    expect(uncaught).toEqual([bug]);
  });

  it("an error listener that throws: the original error is rethrown on a microtask", async () => {
    const t = setup();
    const bug = new Error("listener bug");
    const uncaught = await uncaughtDuring(async () => {
      t.client.on("open", () => {
        throw bug;
      });
      t.client.on("error", () => {
        throw new Error("error listener bug");
      });
      t.client.connect();
      await microtask();
      t.socket.welcome(terms);
      expect(t.client.state).toBe("open");
    });
    // The recording error listener still got the report.
    expect(t.events.error).toMatchObject([{ code: "listener_threw", cause: bug }]);
    expect(uncaught).toHaveLength(2);
    expect(uncaught).toContain(bug);
    expect(uncaught).toContainEqual(new Error("error listener bug"));
  });
});

// One event for every message that will not be delivered: `undelivered`,
// with the data and why, for refusals by `send` too. The `error` event with
// `.data` still comes (the older path, deprecated for this use).
import { defineProtocol } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };

describe("undelivered for a refused send", () => {
  it("not_connected: send while closed", () => {
    const t = setup();
    expect(t.client.send("early")).toBe(false);
    expect(t.events.undelivered).toEqual([
      { reason: "not_connected", messages: ["early"], error: t.events.error[0] },
    ]);
    expect(t.events.error[0]).toMatchObject({ code: "not_connected", data: "early" });
  });

  it("invalid: data that fails protocol.client, or is not JSON", async () => {
    const t = setup<{ text: string }>({
      protocol: defineProtocol({ client: z.object({ text: z.string() }) }),
    });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    const bad = { text: 7 } as unknown as { text: string };
    expect(t.client.send(bad)).toBe(false);
    expect(t.events.undelivered.map((u) => [u.reason, u.messages, u.error?.code])).toEqual([
      ["invalid", [bad], "invalid_outbound"],
    ]);
    // No schema: data JSON cannot carry.
    const u = setup();
    u.client.connect();
    await microtask();
    u.socket.welcome(terms);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(u.client.send(cyclic)).toBe(false);
    expect(u.client.send(() => 1)).toBe(false);
    expect(u.events.undelivered.map((e) => [e.reason, e.messages, e.error?.code])).toEqual([
      ["invalid", [cyclic], "invalid_outbound"],
      ["invalid", [expect.any(Function)], "invalid_outbound"],
    ]);
  });

  it("overflow: the outbox is full; the message refused is the new one", async () => {
    const t = setup({ outbox: { maxMessages: 2 } });
    t.client.connect();
    await microtask();
    t.client.send(1);
    t.client.send(2);
    expect(t.client.send(3)).toBe(false);
    expect(t.events.undelivered).toEqual([
      { reason: "overflow", messages: [3], error: t.events.error.at(-1) },
    ]);
    expect(t.events.error.at(-1)).toMatchObject({ code: "outbox_overflow", data: 3 });
  });
});

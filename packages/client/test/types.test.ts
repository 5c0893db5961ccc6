// Types flow from defineProtocol into send() and the message event.
import { defineProtocol } from "@heartline/protocol";
import { describe, expectTypeOf, it } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import * as z from "zod/mini";
import { createClient, type HeartlineClientError } from "../src/index.js";

describe("types", () => {
  it("types send() and message data from the protocol, and accepts ws's WebSocket", () => {
    const chat = defineProtocol({
      client: z.object({ text: z.string() }),
      server: z.object({ from: z.string(), text: z.string() }),
    });
    const client = createClient({
      url: "ws://localhost/ws",
      protocol: chat,
      WebSocket: WsWebSocket,
    });
    expectTypeOf(client.send).parameter(0).toEqualTypeOf<{ text: string }>();
    client.on("message", (data) => {
      expectTypeOf(data).toEqualTypeOf<{ from: string; text: string }>();
    });
    client.on("undelivered", ({ messages }) => {
      expectTypeOf(messages).toEqualTypeOf<Array<{ text: string }>>();
    });
    client.on("error", (error) => {
      expectTypeOf(error).toEqualTypeOf<HeartlineClientError>();
    });
    // @ts-expect-error: not the client's data type
    void (() => client.send({ txt: "x" }));
  });
});

// `harness.server.on` is typed like the server's own `on` (issue 21, point 8;
// it was `any`): the `@ts-expect-error` lines below fail `tsc` if it is
// loosened again, and the test checks the listener really runs, typed.
import { describe, expect, it } from "vitest";
import { createHarness } from "../src/index.js";

describe("harness.server.on", () => {
  it("takes the server's event names and typed listeners, and delivers", async () => {
    const h = await createHarness<{ text: string }, string>();
    try {
      const texts: string[] = [];
      h.server.on("message", (conn, data) => {
        // `data` is the client's message type, `conn.send` takes the server's.
        texts.push(data.text);
        conn.send(data.text.toUpperCase());
      });
      // Compiled, never run: what the types must refuse.
      const refused = (): void => {
        // @ts-expect-error: not a server event.
        h.server.on("mesage", () => {});
        // @ts-expect-error: `data` is `{ text: string }`, so `data.txt` does not exist.
        h.server.on("message", (_conn, data) => data.txt);
        // @ts-expect-error: a sessionEnd listener gets a SessionEndInfo, not a string.
        h.server.on("sessionEnd", (info: string) => info);
      };
      void refused;
      const c = await h.client<{ text: string }, string>();
      const heard: string[] = [];
      c.on("message", (text) => void heard.push(text));
      await h.waitFor.clientState(c, "open", { within: 0 });
      c.send({ text: "hi" });
      await h.advance(10);
      expect(texts).toEqual(["hi"]);
      expect(heard).toEqual(["HI"]);
    } finally {
      await h.close();
    }
  });
});

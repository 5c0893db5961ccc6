// The README's resume example (section "A resume test"), run over both
// transports: the same test, in memory and over real loopback sockets. The
// last test checks that the README shows exactly this code (less the
// `transport` line), so the documentation cannot rot.
import { readFileSync } from "node:fs";
import { createHarness, type Harness } from "@heartline/testing";
import { afterEach, describe, expect, it } from "vitest";

describe.each(["memory", "loopback"] as const)("README resume example (%s)", (transport) => {
  const X = 500;
  let harness: Harness<string, string>;
  afterEach(() => harness.close());

  it("a half-open link loses nothing: every message arrives once, in order, both ways", async () => {
    const toServer: string[] = [];
    harness = await createHarness<string, string>({
      transport,
      server: {
        intervalMs: X,
        resume: { windowMs: 60_000 }, // sessions stay resumable for a minute
        on: { message: (_conn, data) => void toServer.push(data as string) },
      },
    });
    const client = await harness.client<string, string>();
    const toClient: string[] = [];
    client.on("message", (data) => void toClient.push(data));
    await harness.waitFor.clientState(client, "open");
    const sessionId = client.sessionId;
    const conn = [...harness.server.connections()][0]!;

    client.blackhole(); // half-open: nothing arrives either way, nothing closes
    for (const n of [1, 2, 3]) expect(client.send(`up ${n}`)).toBe(true);
    for (const n of [1, 2, 3]) expect(conn.send(`down ${n}`)).toBe(true);

    const gone = await harness.waitFor.disconnect({ client }, { within: 2 * X });
    expect(gone).toMatchObject({ reason: "timeout", resumable: true });
    client.heal(); // after the server gave up on it

    const resumed = await harness.waitFor.clientEvent(client, "resumed");
    expect(resumed.payload.sessionId).toBe(sessionId); // the same session, continued
    await harness.advance(2 * X); // acknowledgements go both ways
    expect(toServer).toEqual(["up 1", "up 2", "up 3"]);
    expect(toClient).toEqual(["down 1", "down 2", "down 3"]);
  });
});

it("the README shows this very example", () => {
  const source = readFileSync(new URL(import.meta.url), "utf8");
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## A resume test"));
  const shown = section.slice(section.indexOf("```ts\n") + 6, section.indexOf("\n```\n"));
  const tested = source
    .slice(source.indexOf("  const X = 500;"), source.indexOf("\n});\n\nit("))
    .split("\n")
    .filter((line) => line.trim() !== "transport,")
    .map((line) => line.replace(/^ {2}/, ""))
    .join("\n");
  expect(shown.trim()).toBe(tested.trim());
});

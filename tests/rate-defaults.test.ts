// The two sides' defaults never collide (issue 21 point 2): a client on
// defaults that sends as fast as its application can is never closed 4429 by
// a server on defaults. It paces itself within the server's `welcome.rate`,
// holds back in its bounded outbox, and refuses (reported) what does not fit.
// Every message is either received by the server's application, once and in
// order, or reported undelivered to the sender. On the @heartline/testing
// fake clock (real server core, real client) and over real sockets.
import type { AddressInfo } from "node:net";
import type { ClientEvents, HeartlineClient } from "@heartline/client";
import { createClient } from "@heartline/client";
import { createServer } from "@heartline/server";
import { createHarness } from "@heartline/testing";
import { afterEach, describe, expect, it } from "vitest";

const SENDS = 1000;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the client reported: sends it accepted, refusals, every disconnect. */
function watch(client: HeartlineClient<number>) {
  const seen = {
    accepted: [] as number[],
    undelivered: [] as Array<ClientEvents<unknown, number>["undelivered"]>,
    disconnects: [] as Array<ClientEvents["disconnect"]>,
  };
  client.on("undelivered", (event) => seen.undelivered.push(event));
  client.on("disconnect", (event) => seen.disconnects.push(event));
  return {
    ...seen,
    /** `SENDS` sends in one go, as fast as the application can. */
    flood(from = 0): void {
      for (let i = from; i < from + SENDS; i++) if (client.send(i)) seen.accepted.push(i);
    },
    get reported(): number[] {
      return seen.undelivered.flatMap((e) => e.messages);
    },
  };
}

describe.each([
  ["on", true],
  ["off", false],
] as const)("defaults on both sides, resumption %s", (_label, resume) => {
  it("fake time: 1,000 quick sends while open, and 100 queued before the welcome, never 4429; each delivered once or reported", async () => {
    const harness = await createHarness<number, number>({
      server: resume ? { resume: {} } : {},
    });
    cleanups.push(() => harness.close());
    const received: number[] = [];
    harness.server.on("message", (_conn, data) => void received.push(data));
    const client = await harness.client<number>({ name: "app", resume, connect: false });
    const app = watch(client);
    // Queued while connecting (the 98–100 before the welcome), then flushed.
    client.connect();
    for (let i = 0; i < 100; i++) if (client.send(-1 - i)) app.accepted.push(-1 - i);
    await harness.waitFor.clientState(client, "open");
    app.flood();
    // Long enough for everything held to go out at 50 a second, and for a few beats.
    await harness.advance(60_000);
    const limited = harness.timeline.entries.filter(
      (e) => e.kind === "server" && e.event === "disconnect",
    );
    expect(limited).toEqual([]);
    expect(app.disconnects).toEqual([]);
    expect(received).toEqual(app.accepted);
    expect(app.undelivered.every((e) => e.reason === "overflow")).toBe(true);
    expect([...app.accepted, ...app.reported].sort((a, b) => a - b)).toEqual(
      Array.from({ length: SENDS + 100 }, (_, i) => i - 100),
    );
    expect(client.state).toBe("open");
  });

  it("real sockets: 1,000 quick sends never get 4429; each delivered once or reported", async () => {
    const server = createServer({ port: 0, host: "127.0.0.1", ...(resume ? { resume: {} } : {}) });
    const received: number[] = [];
    server.on("message", (_conn, data) => received.push(data as number));
    await server.listening;
    cleanups.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const client = createClient<number>({ url: `ws://127.0.0.1:${port}/ws`, resume });
    cleanups.push(async () => client.close());
    const app = watch(client);
    const opened = new Promise((resolve) => client.on("open", resolve));
    client.connect();
    await opened;
    app.flood();
    // Held messages go out at 50 a second: at most 149 here, so about 3 s.
    const deadline = Date.now() + 15_000;
    while (received.length < app.accepted.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(app.disconnects).toEqual([]);
    expect(server.stats().disconnects.rate_limited).toBe(0);
    expect(received).toEqual(app.accepted);
    expect(app.accepted.length + app.reported.length).toBe(SENDS);
    expect(app.undelivered.every((e) => e.reason === "overflow")).toBe(true);
  });
});

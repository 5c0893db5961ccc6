// The same harness over real sockets (127.0.0.1, port 0): the faults that
// real sockets can take, and a clear error for those they cannot.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, HarnessErrorCode } from "../src/index.js";

const X = 1000;
let h: Harness;

afterEach(async () => {
  await h?.close();
});

async function open() {
  h = await createHarness({ transport: "loopback", server: { intervalMs: X } });
  const c = await h.client();
  await h.waitFor.clientState(c, "open");
  return c;
}

describe("loopback", () => {
  it("blackhole (through the link's TCP proxy): the server gives up at exactly 2X after the last ping", async () => {
    const c = await open();
    await h.waitFor.frame({ direction: "toClient", type: "pong" });
    const lastPing = h.now;
    c.blackhole();
    await h.expectNo.disconnect({}, { within: 2 * X - 1 });
    const gone = await h.waitFor.disconnect({ client: c }, { within: 1 });
    expect(gone).toMatchObject({ reason: "timeout", code: 4000, lastHeardAt: lastPing });
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { since: lastPing });
    expect(own.payload).toMatchObject({ reason: "timeout" });
  });

  it("abort: connection_lost on the server, 1006 on the client; then it reconnects", async () => {
    const c = await open();
    c.abort();
    const gone = await h.waitFor.disconnect({ client: c }, { within: 0 });
    expect(gone.reason).toBe("connection_lost");
    const own = await h.waitFor.clientEvent(c, "disconnect", undefined, { within: 0 });
    expect(own.payload).toMatchObject({ reason: "connection_lost", code: 1006 });
    await h.waitFor.clientState(c, "open", { within: 5 * X });
  });

  it("freeze holds the page's timers and socket events; resume notices the dead connection at once", async () => {
    const c = await open();
    c.freeze();
    const gone = await h.waitFor.disconnect({ client: c });
    expect(gone.reason).toBe("timeout");
    expect(c.state).toBe("open");
    c.resume();
    await h.waitFor.clientState(c, "open", { within: 5 * X });
    expect(h.server.stats().accepted).toBe(2);
  });

  it.each(["latency", "drop", "delay"] as const)(
    "%s() throws unsupported_on_loopback",
    async (control) => {
      const c = await open();
      const call = {
        latency: () => c.latency(10),
        drop: () => c.drop("toServer"),
        delay: () => c.delay("toServer", 10),
      }[control];
      expect(call).toThrow(
        expect.objectContaining({ code: HarnessErrorCode.UnsupportedOnLoopback }),
      );
    },
  );
});

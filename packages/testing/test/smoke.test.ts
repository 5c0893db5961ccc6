import { afterEach, expect, it } from "vitest";
import { createHarness, type Harness } from "../src/index.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
});

it.each(["memory", "loopback"] as const)("smoke %s", async (transport) => {
  h = await createHarness({ transport, server: { intervalMs: 1000 } });
  const c = await h.client();
  await h.waitFor.clientState(c, "open", { within: 0 });
  const t0 = h.now;
  c.heartbeat.pause();
  await h.expectNo.disconnect({}, { within: 1999 });
  const d = await h.waitFor.disconnect({ reason: "timeout" }, { within: 1 });
  expect(d.at - t0).toBe(2000);
  expect(d.client).toBe("c1");
  h.timeline.print();
});

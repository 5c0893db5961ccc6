// The README's complete example, verbatim, so the documentation cannot rot.
import { createHarness, type Harness } from "@heartline/testing";
import { afterEach, expect, it } from "vitest";

const X = 500;
let harness: Harness;
afterEach(() => harness.close());

it("disconnects a silent client at exactly 2X, and it comes back after goodbye", async () => {
  harness = await createHarness({
    server: {
      intervalMs: X,
      reconnectWindow: { minMs: 100, maxMs: 300 },
      on: { message: (conn, data) => conn.send(data) }, // your app's server options
    },
  });
  const client = await harness.client(); // your app's client options
  await harness.waitFor.clientState(client, "open");
  const connectedAt = harness.now;

  client.heartbeat.pause(); // the client goes silent
  await harness.expectNo.disconnect({ client }, { within: 2 * X - 1 });
  const gone = await harness.waitFor.disconnect({ client }, { within: 1 });
  expect(gone).toMatchObject({ reason: "timeout", code: 4000 });
  expect(gone.at - connectedAt).toBe(2 * X);

  client.heartbeat.resume();
  await harness.waitFor.clientState(client, "open"); // it reconnected by itself

  await harness.stopServer(); // goodbye { minMs: 100, maxMs: 300 }, then 1001
  await harness.startServer();
  await harness.waitFor.clientState(client, "open", { within: 300 });
});

// After a 4429 the client knows its session is over (issue 21 point 2): on
// the @heartline/testing fake clock, a real server core whose byte budget
// (which `welcome.rate` does not announce) a client exceeds with large
// messages. The server ends the session deliberately; the client says
// `willResume: false`, reports what was never acknowledged as undelivered
// `rate_limited`, and comes back as a new session after its backoff.
import { createHarness } from "@heartline/testing";
import { afterEach, expect, it } from "vitest";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

it("4429 ends the session: willResume false, the unacknowledged reported rate_limited, then a new session", async () => {
  const h = await createHarness<string, string>({
    server: { resume: {}, byteRateLimit: { burst: 2500, perSecond: 100 } },
  });
  close = () => h.close();
  const received: string[] = [];
  h.server.on("message", (_conn: unknown, data: string) => received.push(data));
  const c = await h.client({ name: "app" });
  await h.waitFor.clientState(c, "open");
  const undelivered: Array<{ reason: string; messages: string[] }> = [];
  c.on("undelivered", (event) => undelivered.push(event));
  const big = (n: number) => `${n}`.padEnd(1000, ".");
  for (const n of [1, 2, 3]) expect(c.send(big(n))).toBe(true);
  const end = await h.waitFor.clientEvent(c, "disconnect");
  expect(end.payload).toMatchObject({ reason: "rate_limited", code: 4429, willResume: false });
  expect(await h.waitFor.disconnect({ client: "app" })).toMatchObject({ reason: "rate_limited" });
  // The server's application got the first two; the third passed the budget.
  expect(received).toEqual([big(1), big(2)]);
  // Exactly what the server never acknowledged is reported, once (the
  // first two may have arrived: only an ack would have told the client).
  const acked = h.timeline.entries
    .filter((e) => e.kind === "frame" && e.direction === "toClient" && e.type === "ack")
    .map((e) => (JSON.parse((e as { text: string }).text) as { seq: number }).seq);
  const reported = undelivered.filter((e) => e.reason === "rate_limited");
  expect(reported).toEqual([
    { reason: "rate_limited", messages: [big(1), big(2), big(3)].slice(Math.max(0, ...acked)) },
  ]);
  // A new session, not a resume: a new id, and nothing replayed.
  const open = await h.waitFor.clientEvent(c, "open", (o) => o.sessionId !== "session-1");
  expect(open.payload).toMatchObject({ sessionId: "session-2", resumed: false });
});

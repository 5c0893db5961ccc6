// Issue 21, point 1, as a new user tried it: a chat server that relays each
// message with `broadcast`, two real clients, alice and bob, on the
// harness's fake clock, in memory and over real loopback sockets. Alice's
// link goes half-open; the server times her out (resumable); bob keeps
// talking; the app broadcasts; alice comes back. She must get every tick
// bob sent while she was away, once and in order (before this, ticks sent
// while her session waited were lost without a report).
import { clientDefaults } from "@heartline/client";
import { DisconnectReason } from "@heartline/protocol";
import { createHarness, type Harness } from "@heartline/testing";
import { afterEach, describe, expect, it } from "vitest";

const X = 1000;

let h: Harness<string, string> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each(["memory", "loopback"] as const)(
  "a session waiting for its client (%s)",
  (transport) => {
    it("alice half-open, bob talks, the app broadcasts: alice gets every tick on resume, once, in order", async () => {
      const relayed: number[] = [];
      const ends: string[] = [];
      const harness: Harness<string, string> = await createHarness<string, string>({
        transport,
        server: {
          intervalMs: X,
          resume: { windowMs: 60_000 },
          on: {
            // Typed through the harness: `h.server.broadcast` reaches live and waiting sessions.
            message: (_conn, text) => void relayed.push(harness.server.broadcast(text)),
            sessionEnd: (info) => void ends.push(`${info.sessionId}:${info.reason}`),
          },
        },
      });
      h = harness;
      const alice = await h.client<string, string>({
        name: "alice",
        reconnect: { baseMs: 50, capMs: 200 },
      });
      const bob = await h.client<string, string>({ name: "bob" });
      await h.waitFor.clientState(alice, "open", { within: 0 });
      await h.waitFor.clientState(bob, "open", { within: 0 });
      const heard: string[] = [];
      alice.on("message", (text) => void heard.push(text));
      const sessionId = alice.sessionId!;

      bob.send("tick 1");
      await h.advance(X);
      expect(heard).toEqual(["tick 1"]);
      alice.blackhole({ whileBlackholed: "discard" });
      const gone = await h.waitFor.disconnect({ client: alice }, { within: 2 * X });
      expect(gone).toMatchObject({ reason: DisconnectReason.Timeout, resumable: true });
      // Alice's session now waits for her; bob keeps talking.
      for (let n = 2; n <= 6; n++) {
        bob.send(`tick ${n}`);
        await h.advance(X / 10);
      }
      // Each broadcast took two: bob's live connection and alice's waiting session.
      expect(relayed).toEqual([2, 2, 2, 2, 2, 2]);
      expect(h.server.session(sessionId)).toMatchObject({ state: "waiting" });
      alice.heal();
      // Her attempt made while blackholed is lost: she retries once it times
      // out (connectTimeoutMs), then after a backoff below X.
      const back = await h.waitFor.clientEvent(alice, "open", undefined, {
        within: clientDefaults.connectTimeoutMs + 2 * X,
      });
      expect(back.payload).toMatchObject({ sessionId, resumed: true });
      bob.send("tick 7");
      await h.advance(X);
      expect(heard).toEqual(["tick 1", "tick 2", "tick 3", "tick 4", "tick 5", "tick 6", "tick 7"]);
      expect(ends).toEqual([]);
    }, 30_000);
  },
);

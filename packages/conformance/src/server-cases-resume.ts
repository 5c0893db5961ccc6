// Resumable sessions: negotiation, replay, dedup, takeover, spent tokens,
// deliberate ends and expiry. Each case runs only when the server offers
// resumption in its welcome (or fails when `resume` says it must).
import { RESUME_TOKEN_OFFER_PREFIX, SUBPROTOCOL } from "@heartline/protocol";
import type { Case } from "./report.js";
import { expect, Skip } from "./report.js";
import {
  connectWelcomed,
  expectClose,
  expectSilenceClose,
  framesOfType,
  resumable,
  type ServerContext,
  serverSuiteDefaults,
  type Welcomed,
} from "./server-suite.js";
import { sleep } from "./wire.js";

const section = "Resumable sessions";

function resumeWith(ctx: ServerContext, token: string): Promise<Welcomed> {
  return connectWelcomed(ctx, { protocols: [SUBPROTOCOL, `${RESUME_TOKEN_OFFER_PREFIX}${token}`] });
}

/** Waits until the server has surely seen a terminated link end (loopback: at once). */
const settle = (ctx: ServerContext) => sleep(ctx.toleranceMs);

function needsEcho(ctx: ServerContext): void {
  if (!ctx.echo) throw new Skip("needs --echo (the server's application echoes every message)");
}

export const resumeCases: Case<ServerContext>[] = [
  {
    id: "resume.negotiation",
    title:
      "heartline.resume is answered with heartline.v1 and welcome.resume { token, windowMs }; no offer, no resume",
    section,
    async run(ctx) {
      const plain = await connectWelcomed(ctx);
      expect(plain.resume === undefined, "a plain v1 client got welcome.resume");
      plain.probe.close();
      const w = await resumable(ctx);
      expect(w.probe.protocol === SUBPROTOCOL, `selected "${w.probe.protocol}"`);
      expect(
        w.resumed === undefined && w.resumeFailed === undefined,
        "a new session's welcome carries resumed/resumeFailed",
      );
      w.probe.close();
    },
  },
  {
    id: "resume.replay-and-dedup",
    title:
      "a resume keeps the sessionId, acks what arrived, replays the unacked, and drops a replayed duplicate",
    section,
    async run(ctx) {
      needsEcho(ctx);
      const first = await resumable(ctx);
      await first.probe.send({ type: "message", seq: 1, data: "a" });
      const echoA = await first.probe.nextOfType("message", 1000);
      expect(echoA.json?.seq === 1 && echoA.json?.data === "a", `echo of seq 1: ${echoA.text}`);
      first.probe.terminate(); // no ack: the server still holds its seq 1
      await settle(ctx);
      const second = await resumeWith(ctx, first.resume.token);
      expect(
        second.sessionId === first.sessionId,
        `resumed under a new sessionId (${second.sessionId}; resumeFailed ${String(second.resumeFailed)})`,
      );
      expect(
        second.resumed?.ack === 1,
        `resumed.ack is ${JSON.stringify(second.resumed)}, the server had seq 1`,
      );
      expect(
        second.resume !== undefined && second.resume.token !== first.resume.token,
        "no fresh token in the resumed welcome",
      );
      const replay = await second.probe.nextOfType("message", 1000);
      expect(replay.json?.seq === 1 && replay.json?.data === "a", `replay: ${replay.text}`);
      // The client's own replay of seq 1 (it had no ack), then a new message.
      await second.probe.send({ type: "message", seq: 1, data: "a" });
      await second.probe.send({ type: "message", seq: 2, data: "b" });
      const echoB = await second.probe.next(
        (f) => f.json?.type === "message" && f.json?.data === "b",
        1000,
        'the echo of "b"',
      );
      expect(
        echoB.json?.seq === 2,
        `"b" echoed as seq ${String(echoB.json?.seq)}: the replayed seq 1 was delivered again`,
      );
      await sleep(ctx.toleranceMs);
      const messages = framesOfType(second.probe, "message").map((f) => f.text);
      expect(messages.length === 2, `messages after the resume: ${messages.join(" ")}`);
      const ack = await second.probe.send({ type: "ack", seq: 2 });
      void ack;
      second.probe.close();
    },
  },
  {
    id: "resume.acks-within-an-interval",
    title: "the server acks a received message within one interval",
    section,
    async run(ctx) {
      const w = await resumable(ctx);
      const sent = await w.probe.send({ type: "message", seq: 1, data: "ack me" });
      const ack = await w.probe.next(
        (f) => f.json?.type === "ack" && f.json?.seq === 1,
        ctx.intervalMs + ctx.toleranceMs,
        "ack seq 1",
      );
      expect(
        ack.at - sent <= ctx.intervalMs + ctx.toleranceMs,
        `ack after ${Math.round(ack.at - sent)} ms`,
      );
      w.probe.close();
    },
  },
  {
    id: "resume.ack-is-life",
    title: "an ack is a data frame: it resets the silence timer",
    section,
    async run(ctx) {
      needsEcho(ctx);
      const w = await resumable(ctx);
      await w.probe.send({ type: "message", seq: 1, data: "echo me" });
      await w.probe.nextOfType("message", 1000);
      await sleep(ctx.intervalMs);
      const sent = await w.probe.send({ type: "ack", seq: 1 });
      await expectSilenceClose(w.probe, ctx, sent);
    },
  },
  {
    id: "resume.seq-gap-4400",
    title:
      "on a resumable session a message with a gap in seq, or no seq, or an ack for an unsent seq, closes 4400",
    section,
    async run(ctx) {
      for (const frame of [
        { type: "message", seq: 2, data: "gap" },
        { type: "message", data: "no seq" },
        { type: "ack", seq: 5 },
      ]) {
        const w = await resumable(ctx);
        await w.probe.send(frame);
        await expectClose(w.probe, 4400, 1000 + ctx.toleranceMs, JSON.stringify(frame));
      }
    },
  },
  {
    id: "resume.takeover-4409",
    title:
      "a resume while the old connection is open closes the old one 4409 and continues the session",
    section,
    async run(ctx) {
      const old = await resumable(ctx);
      await old.probe.send({ type: "ping", seq: 0 });
      const fresh = await resumeWith(ctx, old.resume.token);
      expect(
        fresh.sessionId === old.sessionId,
        `takeover got a new session (resumeFailed ${String(fresh.resumeFailed)})`,
      );
      await expectClose(old.probe, 4409, 1000 + ctx.toleranceMs, "the replaced connection");
      fresh.probe.close();
    },
  },
  {
    id: "resume.spent-token",
    title:
      "a token whose connection proved alive is spent: resumeFailed unknown, a new resumable session",
    section,
    async run(ctx) {
      const first = await resumable(ctx);
      first.probe.terminate();
      await settle(ctx);
      const second = await resumeWith(ctx, first.resume.token);
      expect(second.sessionId === first.sessionId, "the first resume failed");
      await second.probe.send({ type: "ping", seq: 0 }); // proves the connection alive: the old token is spent
      await second.probe.nextOfType("pong", 1000);
      second.probe.terminate();
      await settle(ctx);
      const third = await resumeWith(ctx, first.resume.token);
      expect(third.sessionId !== first.sessionId, "a spent token resumed the session");
      expect(
        third.resumeFailed === "unknown",
        `resumeFailed is ${String(third.resumeFailed)}, expected unknown`,
      );
      expect(third.resume !== undefined, "the new session is not resumable");
      third.probe.close();
    },
  },
  {
    id: "resume.deliberate-close-ends",
    title: "after a close 1000 the session is over: resumeFailed unknown",
    section,
    async run(ctx) {
      const first = await resumable(ctx);
      first.probe.close(1000);
      await first.probe.closed;
      await settle(ctx);
      const again = await resumeWith(ctx, first.resume.token);
      expect(again.sessionId !== first.sessionId, "a session closed with 1000 was resumed");
      expect(again.resumeFailed === "unknown", `resumeFailed is ${String(again.resumeFailed)}`);
      again.probe.close();
    },
  },
  {
    id: "resume.window-expiry",
    title:
      "a session resumes at windowMs − tolerance after a drop, and answers expired at windowMs + tolerance",
    section,
    async run(ctx) {
      const a = await resumable(ctx);
      const windowMs = a.resume.windowMs;
      if (windowMs > serverSuiteDefaults.maxResumeWindowMs) {
        a.probe.close();
        throw new Skip(
          `the resume window is ${windowMs} ms; run the server with one ≤ ${serverSuiteDefaults.maxResumeWindowMs} ms for a bounded wait`,
        );
      }
      const b = await resumable(ctx);
      a.probe.terminate();
      b.probe.terminate();
      const dropped = performance.now();
      await sleep(windowMs - ctx.toleranceMs);
      const early = await resumeWith(ctx, a.resume.token);
      expect(
        early.sessionId === a.sessionId,
        `at windowMs − ${ctx.toleranceMs} ms: resumeFailed ${String(early.resumeFailed)}`,
      );
      early.probe.close();
      await sleep(dropped + windowMs + ctx.toleranceMs - performance.now());
      const late = await resumeWith(ctx, b.resume.token);
      expect(
        late.sessionId !== b.sessionId,
        `resumed ${Math.round(performance.now() - dropped)} ms after the drop, window ${windowMs} ms`,
      );
      expect(
        late.resumeFailed === "expired",
        `resumeFailed is ${String(late.resumeFailed)}, expected expired`,
      );
      late.probe.close();
    },
  },
];

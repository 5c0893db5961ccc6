// welcome, ping/pong and the server's silence rule: what counts as life
// (data frames) and what does not (WebSocket control frames).
import { MAX_SEQ } from "@heartline/protocol";
import type { Case } from "./report.js";
import { expect, Skip } from "./report.js";
import { connectWelcomed, expectSilenceClose, type ServerContext } from "./server-suite.js";
import { sleep } from "./wire.js";

export const heartbeatCases: Case<ServerContext>[] = [
  {
    id: "welcome.first-frame",
    title: "the first frame is welcome: protocol 1, a sessionId, the configured heartbeat terms",
    section: "Messages",
    async run(ctx) {
      const a = await connectWelcomed(ctx);
      const b = await connectWelcomed(ctx);
      const hb = a.welcome.json?.heartbeat as { intervalMs: number; timeoutMs: number };
      expect(
        hb.intervalMs === ctx.intervalMs,
        `welcome.heartbeat.intervalMs is ${hb.intervalMs}, the server is configured with ${ctx.intervalMs}`,
      );
      expect(
        hb.timeoutMs === ctx.timeoutMs,
        `welcome.heartbeat.timeoutMs is ${hb.timeoutMs}, expected ${ctx.timeoutMs}`,
      );
      expect(a.sessionId !== b.sessionId, `two connections got one sessionId ${a.sessionId}`);
      a.probe.close();
      b.probe.close();
    },
  },
  {
    id: "welcome.rate-terms",
    title: "a configured rate limit is announced in welcome as rate { perSecond, burst }",
    section: "Messages",
    async run(ctx) {
      const w = await connectWelcomed(ctx);
      w.probe.close();
      const rate = w.welcome.json?.rate as { perSecond?: unknown; burst?: unknown } | undefined;
      if (rate === undefined && ctx.rateLimit === undefined) {
        throw new Skip(
          "the server announces no rate (welcome without `rate`) and --rate-limit was not given",
        );
      }
      expect(rate !== undefined, "--rate-limit was given, but welcome carries no `rate`");
      expect(
        typeof rate.perSecond === "number" &&
          rate.perSecond > 0 &&
          typeof rate.burst === "number" &&
          rate.burst > 0,
        `rate is not two positive numbers: ${JSON.stringify(rate)}`,
      );
      if (ctx.rateLimit) {
        expect(
          rate.perSecond === ctx.rateLimit.perSecond && rate.burst === ctx.rateLimit.burst,
          `welcome.rate ${JSON.stringify(rate)} differs from the configured ${JSON.stringify(ctx.rateLimit)}`,
        );
      }
    },
  },
  {
    id: "ping.pong-echoes-seq",
    title:
      "a ping is answered at once by a pong with the same seq (0, 7, 2^53 − 1); unknown fields ignored",
    section: "Messages",
    async run(ctx) {
      const { probe } = await connectWelcomed(ctx);
      for (const seq of [0, 7, MAX_SEQ]) {
        const from = probe.frames.length;
        const sent = await probe.send({
          type: "ping",
          seq,
          ...(seq === 7 ? { extra: "ignored" } : {}),
        });
        const pong = await probe.nextOfType("pong", 1000, from);
        expect(pong.json?.seq === seq, `pong.seq ${String(pong.json?.seq)} for ping ${seq}`);
        expect(pong.at - sent <= ctx.toleranceMs, `pong took ${Math.round(pong.at - sent)} ms`);
      }
      probe.close();
    },
  },
  {
    id: "heartbeat.silence-closes-4000",
    title:
      "a client silent since welcome is alive at T − tolerance and closed 4000 by T + tolerance",
    section: "Heartbeat rules",
    async run(ctx) {
      const w = await connectWelcomed(ctx);
      await expectSilenceClose(w.probe, ctx, w.welcome.at);
    },
  },
  {
    id: "heartbeat.ping-is-life",
    title: "a ping resets the silence timer: the deadline moves to the ping + T",
    section: "Heartbeat rules",
    async run(ctx) {
      const w = await connectWelcomed(ctx);
      await sleep(ctx.intervalMs);
      const sent = await w.probe.send({ type: "ping", seq: 1 });
      await expectSilenceClose(w.probe, ctx, sent);
    },
  },
  {
    id: "heartbeat.message-is-life",
    title: "an application message resets the silence timer like a ping",
    section: "Heartbeat rules",
    async run(ctx) {
      const w = await connectWelcomed(ctx);
      await sleep(ctx.intervalMs);
      const sent = await w.probe.send({ type: "message", data: { conformance: "liveness" } });
      await expectSilenceClose(w.probe, ctx, sent);
    },
  },
  {
    id: "heartbeat.control-frames-are-not-life",
    title: "WebSocket ping frames do not reset the silence timer",
    section: "Heartbeat rules",
    async run(ctx) {
      const w = await connectWelcomed(ctx);
      const beat = setInterval(
        () => {
          if (!w.probe.isClosed) w.probe.controlPing();
        },
        Math.max(10, Math.floor(ctx.intervalMs / 4)),
      );
      try {
        await expectSilenceClose(w.probe, ctx, w.welcome.at);
      } finally {
        clearInterval(beat);
      }
    },
  },
  {
    id: "heartbeat.keeps-a-live-client",
    title: "a client that pings every X stays connected past 2T, every ping answered",
    section: "Heartbeat rules",
    async run(ctx) {
      const w = await connectWelcomed(ctx);
      const until = w.welcome.at + 2 * ctx.timeoutMs + ctx.toleranceMs;
      let seq = 0;
      while (performance.now() < until) {
        await sleep(ctx.intervalMs);
        expect(
          !w.probe.isClosed,
          `closed after ${Math.round(performance.now() - w.welcome.at)} ms of pinging every ${ctx.intervalMs} ms`,
        );
        const from = w.probe.frames.length;
        await w.probe.send({ type: "ping", seq: seq++ });
        await w.probe.nextOfType("pong", ctx.intervalMs, from);
      }
      w.probe.close();
    },
  },
  {
    id: "heartbeat.invalid-payload-is-life",
    title:
      "a message whose data fails the app schema gets error invalid_payload, stays open, and counts as life",
    section: "Heartbeat rules",
    async run(ctx) {
      if (ctx.invalidData === undefined) {
        throw new Skip("needs --invalid-data (JSON data the server's application schema refuses)");
      }
      const w = await connectWelcomed(ctx);
      await sleep(ctx.intervalMs);
      const from = w.probe.frames.length;
      const sent = await w.probe.send({ type: "message", data: ctx.invalidData });
      const error = await w.probe.nextOfType("error", 1000, from);
      expect(error.json?.code === "invalid_payload", `error code ${String(error.json?.code)}`);
      expect(typeof error.json?.message === "string", "error without a string message");
      await expectSilenceClose(w.probe, ctx, sent);
    },
  },
];

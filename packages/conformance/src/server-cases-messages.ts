// Bad messages and their close codes, the frames that are not bad, the
// rate limit and payload size.
import type { Case } from "./report.js";
import { expect, Skip } from "./report.js";
import { connectWelcomed, expectClose, needs, type ServerContext } from "./server-suite.js";
import { sleep } from "./wire.js";

const section = "Messages";

/** PROTOCOL.md's bad-message examples, and the bounds of `seq`: each closes 4400. */
const badFrames: readonly (readonly [string, string])[] = [
  ["not-json", "hello"],
  ["not-an-object", "[]"],
  ["no-type", '{"seq":3}'],
  ["unknown-type", '{"type":"dance"}'],
  ["seq-below-0", '{"type":"ping","seq":-1}'],
  ["seq-not-integer", '{"type":"ping","seq":1.5}'],
  ["seq-above-2^53-1", '{"type":"ping","seq":9007199254740992}'],
  ["seq-missing", '{"type":"ping"}'],
  ["data-missing", '{"type":"message"}'],
  ["ack-on-plain-v1", '{"type":"ack","seq":0}'],
];

/** Within this, a bad frame's close must come: it is answered at once. */
const promptMs = (ctx: ServerContext) => 1000 + ctx.toleranceMs;

async function stillOpen(
  ctx: ServerContext,
  probe: { isClosed: boolean },
  what: string,
): Promise<void> {
  await sleep(ctx.toleranceMs * 2);
  expect(!probe.isClosed, `${what}: the connection was closed`);
}

export const messageCases: Case<ServerContext>[] = [
  ...badFrames.map(
    ([name, frame]): Case<ServerContext> => ({
      id: `bad.${name}`,
      title: `${frame} closes 4400`,
      section: "Messages (bad messages)",
      async run(ctx) {
        const { probe } = await connectWelcomed(ctx);
        await probe.sendText(frame);
        await expectClose(probe, 4400, promptMs(ctx), frame);
      },
    }),
  ),
  {
    id: "bad.binary-1003",
    title: "a binary frame closes 1003",
    section: "Messages (bad messages)",
    async run(ctx) {
      const { probe } = await connectWelcomed(ctx);
      await probe.sendBinary(Buffer.from('{"type":"ping","seq":1}'));
      await expectClose(probe, 1003, promptMs(ctx), "binary frame");
    },
  },
  {
    id: "bad.invalid-utf8-1007",
    title: "a text frame with invalid UTF-8 closes 1007",
    section: "Messages (bad messages)",
    async run(ctx) {
      const { probe } = await connectWelcomed(ctx);
      await probe.sendText(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      await expectClose(probe, 1007, promptMs(ctx), "invalid UTF-8");
    },
  },
  {
    id: "bad.oversized-1009",
    title: "a frame of maxPayload bytes is taken; one byte more closes 1009",
    section: "Transport and the upgrade",
    async run(ctx) {
      const max = needs(ctx.maxPayload, "--max-payload (the server's maxPayload in bytes)");
      const frame = (size: number) => {
        const empty = '{"type":"message","data":""}';
        return `{"type":"message","data":"${"x".repeat(size - empty.length)}"}`;
      };
      const { probe } = await connectWelcomed(ctx);
      await probe.sendText(frame(max));
      await stillOpen(ctx, probe, `a frame of exactly ${max} bytes`);
      await probe.sendText(frame(max + 1));
      await expectClose(probe, 1009, promptMs(ctx), `a frame of ${max + 1} bytes`);
    },
  },
  {
    id: "message.null-data-is-valid",
    title: "a message with data null is not a bad message",
    section,
    async run(ctx) {
      const { probe } = await connectWelcomed(ctx);
      await probe.send({ type: "message", data: null });
      await stillOpen(ctx, probe, '{"type":"message","data":null}');
      probe.close();
    },
  },
  {
    id: "message.echo",
    title:
      "the echo application answers a message with the same data (the kit's resume cases rely on it)",
    section,
    async run(ctx) {
      if (!ctx.echo) throw new Skip("needs --echo (the server's application echoes every message)");
      const { probe } = await connectWelcomed(ctx);
      const data = { conformance: "echo", n: [1, 2, 3] };
      await probe.send({ type: "message", data });
      const echo = await probe.nextOfType("message", 1000);
      expect(JSON.stringify(echo.json?.data) === JSON.stringify(data), `echo carried ${echo.text}`);
      expect(echo.json?.seq === undefined, `a plain v1 message carries seq: ${echo.text}`);
      probe.close();
    },
  },
  {
    id: "rate.over-the-limit-4429",
    title: "frames past the burst (pings count) close 4429; a burst within it is answered",
    section: "Messages (rate limit)",
    async run(ctx) {
      const first = await connectWelcomed(ctx);
      const announced = first.welcome.json?.rate as
        | { perSecond: number; burst: number }
        | undefined;
      first.probe.close();
      const rate = ctx.rateLimit ?? announced;
      if (rate === undefined)
        throw new Skip("the server announces no rate in welcome and --rate-limit was not given");
      const within = Math.max(1, Math.floor(rate.burst / 2));
      const calm = await connectWelcomed(ctx);
      for (let seq = 0; seq < within; seq++) void calm.probe.send({ type: "ping", seq });
      await calm.probe.next(
        () => calm.probe.frames.filter((f) => f.json?.type === "pong").length === within,
        2000,
        `${within} pongs for a half burst`,
      );
      calm.probe.close();
      const { probe } = await connectWelcomed(ctx);
      // Far past the bucket even with the refill during the send.
      const frames = rate.burst + Math.ceil(rate.perSecond) + 20;
      for (let seq = 0; seq < frames && !probe.isClosed; seq++)
        void probe.send({ type: "ping", seq }).catch(() => {});
      await expectClose(probe, 4429, promptMs(ctx), `${frames} pings at once`);
    },
  },
];

// The client side: a scripted server checks a client through its frames
// and the events its driver prints. Each case starts a fresh client process.
import { clientMessageSchema, messageSchema, pingSchema, SUBPROTOCOL } from "@heartline/protocol";
import {
  type ClientContext,
  type ClientSuiteOptions,
  clientContext,
  staged,
  welcomeFrame,
} from "./client-suite.js";
import type { Case, RunOptions, SuiteResult } from "./report.js";
import { expect, runCases } from "./report.js";
import type { Probe, Received } from "./wire.js";
import { sleep } from "./wire.js";

const heartbeat = "Heartbeat rules";
const resumeSection = "Resumable sessions";

const ofType = (probe: Probe, type: string) => probe.frames.filter((f) => f.json?.type === type);
const until = (at: number) => sleep(at - performance.now());

function appMessages(probe: Probe, from = 0): Received[] {
  return probe.frames.slice(from).filter((f) => f.json?.type === "message");
}

/** The first ping must come within X (+ tolerance) of the welcome, then one every X (± tolerance). */
function checkCadence(
  pings: readonly Received[],
  welcomedAt: number,
  ctx: ClientContext,
  intervalMs: number,
): void {
  expect(pings.length > 0, "no ping");
  for (const p of pings) expect(pingSchema.safeParse(p.json).success, `invalid ping: ${p.text}`);
  const first = pings[0]!.at - welcomedAt;
  expect(
    first <= intervalMs + ctx.toleranceMs,
    `first ping ${Math.round(first)} ms after welcome (intervalMs ${intervalMs})`,
  );
  for (let i = 1; i < pings.length; i++) {
    const gap = pings[i]!.at - pings[i - 1]!.at;
    expect(
      Math.abs(gap - intervalMs) <= ctx.toleranceMs,
      `ping ${i + 1} came ${Math.round(gap)} ms after the previous one; intervalMs is ${intervalMs} (± ${ctx.toleranceMs})`,
    );
  }
}

/** Every client case, in the order they run. */
export const clientCases: readonly Case<ClientContext>[] = [
  {
    id: "client.pings-on-the-welcome-terms",
    title:
      "offers heartline.v1, pings every intervalMs of the welcome, ignores unknown types and fields",
    section: heartbeat,
    run: (ctx) =>
      staged(ctx, async ({ server, client, first }) => {
        expect(first.offered.includes(SUBPROTOCOL), `offered ${JSON.stringify(first.offered)}`);
        const welcomedAt = await first.probe.send(welcomeFrame(ctx, { futureField: { x: 1 } }));
        await client.next("open", () => true, 2000);
        await first.probe.send({ type: "conformance-unknown-type", payload: 1 });
        const span = 4 * ctx.intervalMs + ctx.toleranceMs;
        await until(welcomedAt + span);
        expect(!first.probe.isClosed, "the client closed a healthy connection");
        const pings = ofType(first.probe, "ping");
        expect(
          pings.length >= 4,
          `${pings.length} pings in ${span} ms at intervalMs ${ctx.intervalMs}`,
        );
        checkCadence(pings, welcomedAt, ctx, ctx.intervalMs);
        for (const f of first.probe.frames) {
          expect(clientMessageSchema.safeParse(f.json).success, `not a client message: ${f.text}`);
          expect(f.json?.type !== "ack", `an ack on a plain v1 session: ${f.text}`);
        }
        expect(server.accepted.length === 1, "the client reconnected without cause");
      }),
  },
  {
    id: "client.detects-a-silent-server",
    title:
      "a server silent since welcome: the client is open at timeoutMs − tolerance, closes by timeoutMs + tolerance, reports timeout",
    section: heartbeat,
    run: (ctx) =>
      staged(ctx, async ({ server, client, first }) => {
        server.autoPong = false;
        const welcomedAt = await first.probe.send(welcomeFrame(ctx));
        await until(welcomedAt + ctx.timeoutMs - ctx.toleranceMs);
        expect(!first.probe.isClosed, "closed before timeoutMs − tolerance");
        const closed = await first.probe.closedWithin(
          welcomedAt + ctx.timeoutMs + ctx.toleranceMs - performance.now(),
          `the client closing at timeoutMs ${ctx.timeoutMs}`,
        );
        expect(
          closed.at - welcomedAt >= ctx.timeoutMs - ctx.toleranceMs,
          `closed after ${Math.round(closed.at - welcomedAt)} ms`,
        );
        await client.next("disconnect", (e) => e.reason === "timeout", 1000);
      }),
  },
  {
    id: "client.any-frame-is-life",
    title:
      "every server frame resets the client's silence timer (a message at 0.75 T moves the deadline)",
    section: heartbeat,
    run: (ctx) =>
      staged(ctx, async ({ server, client, first }) => {
        server.autoPong = false;
        const welcomedAt = await first.probe.send(welcomeFrame(ctx));
        await until(welcomedAt + 0.75 * ctx.timeoutMs);
        const sent = await first.probe.send({ type: "message", data: "keep" });
        await client.next("message", (e) => e.data === "keep", 1000);
        await until(sent + ctx.timeoutMs - ctx.toleranceMs);
        expect(
          !first.probe.isClosed,
          `closed ${Math.round(performance.now() - sent)} ms after the server's last frame`,
        );
        await first.probe.closedWithin(
          sent + ctx.timeoutMs + ctx.toleranceMs - performance.now(),
          "the client closing",
        );
      }),
  },
  {
    id: "client.close-is-1000",
    title: "a deliberate close sends 1000 and does not reconnect",
    section: "Close codes",
    run: (ctx) =>
      staged(ctx, async ({ server, client, first }) => {
        await first.probe.send(welcomeFrame(ctx));
        await client.next("open", () => true, 2000);
        client.command({ cmd: "close" });
        const closed = await first.probe.closedWithin(1000, "the client's close");
        expect(closed.code === 1000, `closed with ${closed.code}`);
        await sleep(1000);
        expect(server.accepted.length === 1, "the client reconnected after closing deliberately");
      }),
  },
  {
    id: "client.goodbye-window",
    title:
      "after goodbye + 1001 each reconnect waits within [minMs, maxMs], spread (jitter) over six rounds",
    section: "Messages (goodbye)",
    run: (ctx) =>
      staged(ctx, async ({ server, client }) => {
        const window = { minMs: 400, maxMs: 1200 };
        const delays: number[] = [];
        for (let round = 0; round < 6; round++) {
          const conn = await server.connection(round, ctx.reconnectWithinMs);
          await conn.probe.send(welcomeFrame(ctx, { sessionId: `goodbye-${round}` }));
          await client.next("open", (e) => e.sessionId === `goodbye-${round}`, 2000);
          await conn.probe.send({ type: "goodbye", reconnect: window });
          const closedAt = performance.now();
          conn.probe.close(1001);
          const next = await server.connection(round + 1, window.maxMs + ctx.toleranceMs + 1000);
          const delay = next.at - closedAt;
          expect(
            delay >= window.minMs - ctx.toleranceMs && delay <= window.maxMs + ctx.toleranceMs,
            `round ${round + 1}: reconnected ${Math.round(delay)} ms after goodbye; the window is [${window.minMs}, ${window.maxMs}]`,
          );
          delays.push(delay);
        }
        // The jitter is judged on the waits the client says it drew when its
        // driver reports them (`reconnecting`): arrival times on a loaded
        // machine can bunch up (six arrivals 817-873 ms in one CI run) while
        // the draws were spread. Each reported wait must lie in the window too.
        const drawn = client
          .all("reconnecting")
          .map((e) => (e as { delayMs?: unknown }).delayMs)
          .filter((d): d is number => typeof d === "number")
          .slice(-6);
        for (const d of drawn) {
          expect(
            d >= window.minMs && d <= window.maxMs,
            `the client drew a wait of ${Math.round(d)} ms after goodbye; the window is [${window.minMs}, ${window.maxMs}]`,
          );
        }
        const judged = drawn.length === 6 ? drawn : delays;
        const spread = Math.max(...judged) - Math.min(...judged);
        expect(
          spread >= (window.maxMs - window.minMs) / 8,
          `six ${drawn.length === 6 ? "waits drawn" : "delays"} within ${Math.round(spread)} ms of each other: no jitter (${judged.map(Math.round).join(", ")})`,
        );
      }),
  },
  {
    id: "client.reconnects-with-backoff",
    title:
      "after a dropped link the client reconnects, and backs off when every connection drops (≤ 20 attempts in 3 s)",
    section: heartbeat,
    run: (ctx) =>
      staged(ctx, async ({ server, first }) => {
        let dropped = 0;
        const dropAll = setInterval(() => {
          for (const c of server.accepted.slice(dropped)) {
            void c.probe.send(welcomeFrame(ctx)).then(
              () => c.probe.terminate(),
              () => {},
            );
          }
          dropped = server.accepted.length;
        }, 5);
        try {
          await server.connection(1, ctx.reconnectWithinMs);
          await until(first.at + 3000);
          expect(
            server.accepted.length <= 20,
            `${server.accepted.length} connections in 3 s: no backoff`,
          );
        } finally {
          clearInterval(dropAll);
        }
      }),
  },
  {
    id: "client.resume-replay-acks",
    title:
      "offers heartline.resume, numbers messages, acks, resumes with its token, replays past resumed.ack, drops duplicates",
    section: resumeSection,
    run: (ctx) =>
      staged(ctx, async ({ server, client, first }) => {
        const resumeOffer = "heartline.resume";
        expect(
          first.offered.includes(resumeOffer),
          `offered ${JSON.stringify(first.offered)}, no ${resumeOffer}`,
        );
        const terms = { token: "tok-1", windowMs: 60_000 };
        await first.probe.send(welcomeFrame(ctx, { sessionId: "s-resume", resume: terms }));
        await client.next("open", () => true, 2000);
        for (const data of ["a", "b", "c"]) client.command({ cmd: "send", data });
        await first.probe.next(() => appMessages(first.probe).length >= 3, 2000, "three messages");
        const sent = appMessages(first.probe).map((f) => f.json);
        for (const m of sent)
          expect(messageSchema.safeParse(m).success, `invalid message ${JSON.stringify(m)}`);
        expect(
          JSON.stringify(sent.map((m) => [m?.seq, m?.data])) === '[[1,"a"],[2,"b"],[3,"c"]]',
          `messages as numbered: ${JSON.stringify(sent)}`,
        );
        await first.probe.send({ type: "message", seq: 1, data: "x" });
        const ySent = await first.probe.send({ type: "message", seq: 2, data: "y" });
        await first.probe.send({ type: "ack", seq: 1 });
        const ack = await first.probe.next(
          (f) => f.json?.type === "ack" && f.json?.seq === 2,
          ctx.intervalMs + ctx.toleranceMs,
          "the client's ack of seq 2",
        );
        expect(
          ack.at - ySent <= ctx.intervalMs + ctx.toleranceMs,
          `ack came ${Math.round(ack.at - ySent)} ms after the message`,
        );
        first.probe.terminate();

        const second = await server.connection(1, ctx.reconnectWithinMs);
        expect(
          second.offered.includes(`heartline.resume.${terms.token}`),
          `the reconnect offered ${JSON.stringify(second.offered)}`,
        );
        await second.probe.send(
          welcomeFrame(ctx, {
            sessionId: "s-resume",
            resume: { token: "tok-2", windowMs: 60_000 },
            resumed: { ack: 2 },
          }),
        );
        await second.probe.send({ type: "message", seq: 2, data: "y" });
        const zSent = await second.probe.send({ type: "message", seq: 3, data: "z" });
        const replay = await second.probe.nextOfType("message", 2000);
        expect(
          replay.json?.seq === 3 && replay.json?.data === "c",
          `first message after the resume: ${replay.text} (expected seq 3 "c": past resumed.ack 2)`,
        );
        await second.probe.next(
          (f) => f.json?.type === "ack" && Number(f.json?.seq) >= 3,
          ctx.intervalMs + ctx.toleranceMs,
          "the client's ack of seq 3",
        );
        expect(
          performance.now() - zSent <= ctx.intervalMs + 2 * ctx.toleranceMs,
          "ack of seq 3 late",
        );
        await client.next("open", (e) => e.resumed === true, 1000);
        const delivered = client.all("message").map((e) => e.data);
        expect(
          JSON.stringify(delivered) === '["x","y","z"]',
          `delivered ${JSON.stringify(delivered)}; expected x, y, z once each`,
        );
        client.command({ cmd: "send", data: "d" });
        const d = await second.probe.next(
          (f) => f.json?.type === "message" && f.json?.data === "d",
          1000,
          'the new message "d"',
        );
        expect(d.json?.seq === 4, `"d" numbered ${String(d.json?.seq)}, expected 4`);
        expect(
          appMessages(second.probe).length === 2,
          `messages on the resumed connection: ${appMessages(second.probe)
            .map((f) => f.text)
            .join(" ")}`,
        );
      }),
  },
  {
    id: "client.acks-32-at-once",
    title: "a receiver acks once 32 messages are unacknowledged, without waiting for the interval",
    section: resumeSection,
    run: (ctx) =>
      staged(ctx, async ({ client, first }) => {
        const slow = { intervalMs: 4000, timeoutMs: 8000 };
        await first.probe.send(
          welcomeFrame(ctx, { resume: { token: "tok-32", windowMs: 60_000 } }, slow),
        );
        await client.next("open", () => true, 2000);
        let lastAt = 0;
        for (let seq = 1; seq <= 40; seq++)
          lastAt = await first.probe.send({ type: "message", seq, data: seq });
        const ack = await first.probe.next(
          (f) => f.json?.type === "ack" && Number(f.json?.seq) >= 32,
          slow.intervalMs,
          "an ack of ≥ 32",
        );
        expect(
          ack.at - lastAt <= 4 * ctx.toleranceMs,
          `the ack of 32 came ${Math.round(ack.at - lastAt)} ms after the burst`,
        );
        await client.next("message", (e) => e.data === 40, 1000);
      }),
  },
  {
    id: "client.paces-to-the-rate",
    title:
      "a client told rate { perSecond, burst } keeps every data frame within that bucket and sends them all",
    section: "Messages (rate limit)",
    run: (ctx) =>
      staged(
        ctx,
        async ({ client, first }) => {
          const rate = { perSecond: 10, burst: 4 };
          await first.probe.send(
            welcomeFrame(ctx, { rate }, { intervalMs: 1000, timeoutMs: 2000 }),
          );
          await client.next("open", () => true, 2000);
          const count = 12;
          for (let data = 0; data < count; data++) client.command({ cmd: "send", data });
          const paced = ((count - rate.burst) / rate.perSecond) * 1000;
          await first.probe.next(
            () => appMessages(first.probe).length >= count,
            paced + 1000 + ctx.toleranceMs,
            `all ${count} messages`,
          );
          // Every client frame is a data frame (pings and acks count). Arrival
          // jitter may bunch frames: the tolerance's worth of refill is allowed.
          const slack = 1 + (ctx.toleranceMs * rate.perSecond) / 1000;
          let tokens: number = rate.burst;
          let last = first.probe.frames[0]?.at ?? 0;
          for (const [i, f] of first.probe.frames.entries()) {
            tokens = Math.min(rate.burst, tokens + ((f.at - last) * rate.perSecond) / 1000) - 1;
            last = f.at;
            expect(
              tokens >= -slack,
              `frame ${i + 1} (${f.text}) exceeds the bucket ${JSON.stringify(rate)} by ${Math.round(-tokens)} frames`,
            );
          }
        },
        "rate",
      ),
  },
  {
    id: "client.stops-on-4401",
    title:
      "a client refused with close 4401 (no welcome) tries at most once more, then stops, reporting unauthorized",
    section: "Transport and the upgrade",
    run: (ctx) =>
      staged(
        ctx,
        async ({ server, client, first }) => {
          let refused = 0;
          const refuse = setInterval(() => {
            for (const c of server.accepted.slice(refused)) c.probe.close(4401);
            refused = server.accepted.length;
          }, 5);
          try {
            await client.next("disconnect", (e) => e.reason === "unauthorized", 3000);
            await until(first.at + 3000);
            expect(
              server.accepted.length <= 2,
              `${server.accepted.length} attempts after 4401 refusals`,
            );
          } finally {
            clearInterval(refuse);
          }
        },
        "unauthorized",
      ),
  },
];

/** Runs the client side against `options.command`; TAP goes to `run.write`. */
export function runClientSuite(
  options: ClientSuiteOptions,
  run: RunOptions = {},
): Promise<SuiteResult> {
  return runCases(clientCases, clientContext(options), run);
}

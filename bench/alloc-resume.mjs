// What the resume path allocates per echoed message, without sockets: N
// connections of the transport-free core on an in-memory transport, each
// sent application messages (with `seq` and the client's acks every 32 when
// resumption is on) that the server echoes, in one synchronous burst with a
// young generation big enough that no GC runs inside it. heapUsed after −
// before, ÷ messages, is what one echoed message allocates (JS heap only);
// off and on alternate in one process, `ws` and the machine's load out of the picture.
//
//   node --expose-gc --max-semi-space-size=128 bench/alloc-resume.mjs [--n=1000] [--messages=20000] [--rounds=3]
import { constants, PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "1000" },
    messages: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
  },
});
const N = Number(args.n);
const MESSAGES = Number(args.messages);
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

async function loadCore() {
  const { build } = await import("esbuild");
  const outfile = here("./.build/heartline-core.mjs");
  await build({
    stdin: {
      contents: 'export { createServerCore } from "@heartline/server/core";',
      resolveDir: here("./"),
    },
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["heartline-source"],
    logLevel: "warning",
  });
  return import(outfile);
}
const { createServerCore } = await loadCore();

let gcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if (!(e.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) gcs++;
}).observe({ entryTypes: ["gc"] });

/** A client of the core: counts the server's messages and acks them every 32, as the bench load does. */
function setUp(resume) {
  const core = createServerCore({
    intervalMs: 1000,
    // A burst is far above any rate limit: off, so no connection ends inside it.
    rateLimit: false,
    ...(resume ? { resume: {} } : {}),
    on: { message: (conn, data) => conn.send(data) },
  });
  const headers = {
    "sec-websocket-protocol": resume ? "heartline.v1, heartline.resume" : "heartline.v1",
  };
  const clients = [];
  for (let i = 0; i < N; i++) {
    const client = { inSeq: 0, unacked: 0, outSeq: 0, sink: undefined };
    const transport = {
      bufferedAmount: 0,
      send(text) {
        // The server's frames: only its numbered messages need an ack (a cheap test, no parse).
        if (resume && text.startsWith('{"type":"message"')) {
          client.inSeq++;
          if (++client.unacked >= 32) {
            client.unacked = 0;
            client.sink.receive(`{"type":"ack","seq":${client.inSeq}}`);
          }
        }
      },
      close() {},
      terminate() {},
    };
    const verdict = core.admit({ headers, url: "/ws", remoteAddress: "127.0.0.1", raw: undefined });
    if (verdict.kind !== "accepted") throw new Error(`admit: ${JSON.stringify(verdict)}`);
    client.sink = core.accept(transport, { auth: verdict.auth, resume: verdict.resume });
    clients.push(client);
  }
  return { core, clients };
}

function burst({ clients }, resume, count) {
  for (let k = 0; k < count; k++) {
    const client = clients[k % clients.length];
    client.outSeq++;
    client.sink.receive(
      resume
        ? `{"type":"message","seq":${client.outSeq},"data":{"n":${client.outSeq}}}`
        : `{"type":"message","data":{"n":${client.outSeq}}}`,
    );
  }
}

const results = { off: [], on: [] };
for (let round = 0; round < Number(args.rounds); round++) {
  for (const resume of round % 2 === 0 ? [false, true] : [true, false]) {
    const setup = setUp(resume);
    // Warm-up: JIT, array growth, every connection's first acks.
    for (let w = 0; w < 5; w++) burst(setup, resume, MESSAGES);
    globalThis.gc();
    const gcsBefore = gcs;
    const before = process.memoryUsage().heapUsed;
    burst(setup, resume, MESSAGES);
    const allocated = process.memoryUsage().heapUsed - before;
    const clean = gcs === gcsBefore;
    globalThis.gc();
    const retained = process.memoryUsage().heapUsed - before;
    const perMessage = allocated / MESSAGES;
    results[resume ? "on" : "off"].push(perMessage);
    process.stdout.write(
      `round ${round + 1} resume ${resume ? "on " : "off"}: ${perMessage.toFixed(0)} B allocated per echoed message` +
        `${clean ? "" : " (a GC ran inside the burst: figure too low)"}, ${(retained / 1024).toFixed(0)} KiB retained after GC, ` +
        `stats ${JSON.stringify(setup.core.stats().sessions)}\n`,
    );
    await setup.core.close();
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  `median: off ${median(results.off).toFixed(0)} B, on ${median(results.on).toFixed(0)} B per echoed message ` +
    `(on − off ${(median(results.on) - median(results.off)).toFixed(0)} B)\n`,
);
process.exit(0);

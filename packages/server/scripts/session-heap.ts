// Heap per idle connection on the transport-free core, resumption off and
// on: N connections on a no-op transport, heap measured after two full GCs
// before and after (the README's "Memory" figure). Each mode runs in its
// own process so one does not warm the other up.
//   node --expose-gc --import tsx --conditions heartline-source packages/server/scripts/session-heap.ts [off|on] [N]
import { createServerCore, type ServerTransport } from "../src/core/index.js";

const mode = process.argv[2] === "on" ? "on" : "off";
const n = Number(process.argv[3] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const core = createServerCore({ resume: mode === "on" ? {} : false, rateLimit: false });
const held: unknown[] = [];
const before = heapUsed();
for (let i = 0; i < n; i++) {
  const transport: ServerTransport = {
    send() {},
    close() {},
    terminate() {},
    bufferedAmount: 0,
  };
  held.push(
    core.accept(transport, {
      remoteAddress: `10.0.${i % 250}.${i % 200}`,
      auth: undefined,
      resume: mode === "on" ? { token: undefined } : undefined,
    }),
  );
}
const after = heapUsed();
console.log(
  JSON.stringify({
    resume: mode,
    connections: held.length,
    heapPerConnection: Math.round((after - before) / n),
  }),
);

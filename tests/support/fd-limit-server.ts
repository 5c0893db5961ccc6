// A Heartline server for the descriptor-exhaustion case, run under
// `prlimit --nofile=N:N` by tests/fault-descriptors.test.ts. Configured by
// HL_FD (JSON: { intervalMs, maxConnections? }). JSON lines on stdout:
//   {"type":"ready","port","fds"}        once listening (fds: descriptors open then)
//   {"type":"error","code"}              every `error` event
//   {"type":"rejected","status","reason"} every refused upgrade
// and on stdin the line "stats" → {"type":"stats", fds, ...stats()}.
// It exits when stdin closes.
import { readdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { createServer } from "@heartline/server";

const config = JSON.parse(process.env.HL_FD ?? "{}") as {
  intervalMs: number;
  maxConnections?: number;
};
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
/** Descriptors open now; -1 when listing them needs one more than the limit leaves. */
const fds = (): number => {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
};

const hl = createServer({
  port: 0,
  host: "127.0.0.1",
  intervalMs: config.intervalMs,
  ...(config.maxConnections === undefined ? {} : { maxConnections: config.maxConnections }),
  on: {
    error: (e) => out({ type: "error", code: e.code }),
    upgradeRejected: (r) => out({ type: "rejected", status: r.status, reason: r.reason }),
  },
});
await hl.listening;
out({ type: "ready", port: (hl.address() as AddressInfo).port, fds: fds() });
createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line.trim() === "stats") out({ type: "stats", fds: fds(), ...hl.stats() });
  })
  .on("close", () => process.exit(0));

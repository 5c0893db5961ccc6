// One Heartline server in its own process, for the fault tests: it can be
// SIGSTOPped, SIGKILLed and restarted on the same port. Configured by the
// HL_SERVER environment variable (JSON, `ServerProcessConfig`). Speaks JSON
// lines on stdout (times are this process's Date.now()):
//   {"type":"ready","port","pid"}                                   once listening
//   {"type":"connect","sessionId","t"}                              every connection
//   {"type":"disconnect","sessionId","reason","code"?,"lastHeardAt","connectedAt","t"}
//   {"type":"message","sessionId","data"}                           when logMessages
//   {"type":"rejected","status","reason","t"}                       every refused upgrade
//   {"type":"error","code","message"}                               every HeartlineError
// and takes commands on stdin ({"id","cmd"}; the answer carries "re": id):
//   open   → {"type":"open","sessions":[…],"stats":{…}}
//   probe  → {"type":"probe","resources":{type: count},"heapUsed"} after global.gc()
//   close  → graceful shutdown (goodbye + 1001), then exit 0
// It exits when stdin closes, so a test process that dies takes it along.
import { createInterface } from "node:readline";
import v8 from "node:v8";
import { defineProtocol, type StandardSchemaV1 } from "@heartline/protocol";
import { createServer } from "@heartline/server";

export interface ServerProcessConfig {
  /** 0 for any free port; a fixed one to restart in place. */
  readonly port: number;
  readonly intervalMs: number;
  readonly timeoutMs?: number;
  readonly rateLimit?: { burst: number; perSecond: number } | false;
  readonly maxPayload?: number;
  readonly allowedOrigins?: readonly string[];
  readonly reconnectWindow?: { minMs: number; maxMs: number };
  /** Print every application message (for exactly-once checks). */
  readonly logMessages?: boolean;
  /** Send every application message back to its sender as `{ echo: data }`. */
  readonly echo?: boolean;
}

const config = JSON.parse(process.env.HL_SERVER ?? "{}") as ServerProcessConfig;
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/**
 * The application schema: anything but an object with a `reject` field, so a
 * test can provoke the soft `invalid_payload` error with a valid envelope.
 * Written by hand as a Standard Schema to keep zod out of the fixture.
 */
const anythingButReject: StandardSchemaV1<unknown, unknown> = {
  "~standard": {
    version: 1,
    vendor: "heartline-tests",
    validate: (value) =>
      typeof value === "object" && value !== null && "reject" in value
        ? { issues: [{ message: "rejected by the test schema" }] }
        : { value },
  },
};

const hl = createServer({
  port: config.port,
  host: "127.0.0.1",
  intervalMs: config.intervalMs,
  ...(config.timeoutMs !== undefined && { timeoutMs: config.timeoutMs }),
  ...(config.rateLimit !== undefined && { rateLimit: config.rateLimit }),
  ...(config.maxPayload !== undefined && { maxPayload: config.maxPayload }),
  ...(config.allowedOrigins !== undefined && { allowedOrigins: [...config.allowedOrigins] }),
  ...(config.reconnectWindow !== undefined && { reconnectWindow: config.reconnectWindow }),
  protocol: defineProtocol({ client: anythingButReject }),
  // `?auth=deny` in the upgrade URL is refused: the fault tests' stand-in for a bad token.
  authenticate: (request) => !(request.url ?? "").includes("auth=deny"),
  on: {
    connection: (conn) => out({ type: "connect", sessionId: conn.sessionId, t: Date.now() }),
    disconnect: (report) =>
      out({
        type: "disconnect",
        sessionId: report.sessionId,
        reason: report.reason,
        ...(report.code !== undefined && { code: report.code }),
        lastHeardAt: report.lastHeardAt,
        connectedAt: report.connectedAt,
        t: Date.now(),
      }),
    message: (conn, data) => {
      if (config.logMessages) out({ type: "message", sessionId: conn.sessionId, data });
      if (config.echo) conn.send({ echo: data });
    },
    upgradeRejected: ({ status, reason }) =>
      out({ type: "rejected", status, reason, t: Date.now() }),
    error: (error) => out({ type: "error", code: error.code, message: error.message }),
  },
});
await hl.listening;
const address = hl.address();
out({
  type: "ready",
  port: typeof address === "object" && address !== null ? address.port : 0,
  pid: process.pid,
});

/** Counts of what keeps the event loop alive, by type (TCPSocketWrap, Timeout, …). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

const gc = (globalThis as { gc?: () => void }).gc;

for await (const text of createInterface({ input: process.stdin })) {
  const { id, cmd } = JSON.parse(text) as { id: number; cmd: string };
  if (cmd === "open") {
    out({
      type: "open",
      re: id,
      sessions: Array.from(hl.connections(), (c) => c.sessionId),
      stats: hl.stats(),
    });
  } else if (cmd === "probe") {
    // Several passes: a single gc() can leave garbage that a finalizer or a
    // weak reference only released on the previous pass.
    for (let i = 0; i < 4; i++) gc?.();
    out({
      type: "probe",
      re: id,
      resources: resources(),
      heapUsed: process.memoryUsage().heapUsed,
      spaces: Object.fromEntries(
        v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]),
      ),
      gc: gc !== undefined,
    });
  } else if (cmd === "close") {
    await hl.close();
    out({ type: "closed", re: id });
    // Exit once the answer is flushed: a pipe the parent reads slowly can make
    // stdout asynchronous, and process.exit() would drop the line.
    process.stdout.write("", () => process.exit(0));
  }
}
// stdin closed: the test process is gone.
process.exit(0);

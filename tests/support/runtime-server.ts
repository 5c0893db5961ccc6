// One Heartline server on Bun or Deno (whichever runs this file), through
// @heartline/server/bun or /deno, for the runtime tests. Configured by the
// HL_SERVER environment variable (JSON, `RuntimeServerConfig`). Speaks the
// JSON lines of server-process.ts on stdout:
//   {"type":"ready","port","runtime"}            once listening
//   {"type":"connect","sessionId","protocol","t"}  every connection
//   {"type":"disconnect","sessionId","reason","code"?,"t"}
//   {"type":"rejected","status","reason"}        every refused upgrade
//   {"type":"error","code","message"}
//   {"type":"resume","sessionId"} / {"type":"session_end","sessionId","reason","undelivered"}
// and takes commands on stdin ({"id","cmd"}; the answer carries "re": id):
//   open  → {"type":"open","sessions":[…],"stats":{…}}
//   flood → sends `count` messages of `bytes` to every connection → {"type":"flooded","sent"}
//   close → graceful shutdown (goodbye + 1001) → {"type":"closed"}, then exit 0
// Every application message is echoed back as { echo: data }. It exits when stdin closes.
import process from "node:process";
import { createInterface } from "node:readline";
import { createServer as createBunServer } from "@heartline/server/bun";
import { createServer as createDenoServer } from "@heartline/server/deno";

export interface RuntimeServerConfig {
  readonly port?: number;
  readonly intervalMs: number;
  readonly maxPayload?: number;
  readonly allowedOrigins?: readonly string[];
  readonly maxConnections?: number;
  readonly maxConnectionsPerAddress?: number;
  readonly maxBufferedBytes?: number;
  readonly closeTimeoutMs?: number;
  readonly resumeWindowMs?: number;
  /** `?auth=deny` is refused (401); `?auth=slow` waits 50 ms first. */
  readonly authenticate?: boolean;
}

const runtime = "Bun" in globalThis ? "bun" : "deno";
const config = JSON.parse(process.env.HL_SERVER ?? "{}") as RuntimeServerConfig;
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const options = {
  port: config.port ?? 0,
  host: "127.0.0.1",
  intervalMs: config.intervalMs,
  ...(config.maxPayload !== undefined && { maxPayload: config.maxPayload }),
  ...(config.allowedOrigins !== undefined && { allowedOrigins: [...config.allowedOrigins] }),
  ...(config.maxConnections !== undefined && { maxConnections: config.maxConnections }),
  ...(config.maxConnectionsPerAddress !== undefined && {
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
  }),
  ...(config.maxBufferedBytes !== undefined && { maxBufferedBytes: config.maxBufferedBytes }),
  ...(config.closeTimeoutMs !== undefined && { closeTimeoutMs: config.closeTimeoutMs }),
  ...(config.resumeWindowMs !== undefined && { resume: { windowMs: config.resumeWindowMs } }),
  rateLimit: false as const,
  byteRateLimit: false as const,
  ...(config.authenticate === true && {
    authenticate: async (request: Request) => {
      if (request.url.includes("auth=slow")) await new Promise((r) => setTimeout(r, 50));
      return request.url.includes("auth=deny") ? false : { user: "u" };
    },
  }),
  on: {
    connection: (conn: { sessionId: string }, request: { headers: object } | undefined) =>
      out({
        type: "connect",
        sessionId: conn.sessionId,
        protocol: (request?.headers as Record<string, string> | undefined)?.[
          "sec-websocket-protocol"
        ],
        t: Date.now(),
      }),
    disconnect: (report: { sessionId: string; reason: string; code?: number | undefined }) =>
      out({
        type: "disconnect",
        sessionId: report.sessionId,
        reason: report.reason,
        ...(report.code !== undefined && { code: report.code }),
        t: Date.now(),
      }),
    message: (conn: { send(data: unknown): boolean }, data: unknown) => {
      conn.send({ echo: data });
    },
    upgradeRejected: ({ status, reason }: { status: number; reason: string }) =>
      out({ type: "rejected", status, reason }),
    error: (error: { code: string; message: string }) =>
      out({ type: "error", code: error.code, message: error.message }),
    resume: (info: { sessionId: string }) => out({ type: "resume", sessionId: info.sessionId }),
    sessionEnd: (info: { sessionId: string; reason: string; undelivered: readonly unknown[] }) =>
      out({
        type: "session_end",
        sessionId: info.sessionId,
        reason: info.reason,
        undelivered: info.undelivered.length,
      }),
  },
};

const hl = runtime === "bun" ? createBunServer(options) : createDenoServer(options);
await hl.listening;
out({ type: "ready", port: hl.address()?.port, runtime });

for await (const text of createInterface({ input: process.stdin })) {
  const { id, cmd, count, bytes } = JSON.parse(text) as {
    id: number;
    cmd: string;
    count?: number;
    bytes?: number;
  };
  if (cmd === "open") {
    out({
      type: "open",
      re: id,
      sessions: Array.from(hl.connections(), (c) => c.sessionId),
      stats: hl.stats(),
    });
  } else if (cmd === "flood") {
    const filler = "x".repeat(bytes ?? 1024);
    let sent = 0;
    for (let i = 0; i < (count ?? 1); i++) sent += hl.broadcast(filler);
    out({ type: "flooded", re: id, sent });
  } else if (cmd === "close") {
    await hl.close();
    out({ type: "closed", re: id });
    process.stdout.write("", () => process.exit(0));
  }
}
process.exit(0);

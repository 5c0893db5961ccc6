// Many real @heartline/client instances (on `ws`) in one process, so the test
// process and the server each keep a core's worth of room. Configured by the
// HL_SWARM environment variable (JSON, `SwarmConfig`). JSON lines on stdout
// (times are Date.now(), comparable with the server process's):
//   {"type":"ready"}
//   {"type":"open","i","sessionId","t"}                       every welcome
//   {"type":"disconnect","i","reason","code"?,"willReconnect","lastPingAt","answeredPingAt","lastHeardAt","t"}
//        lastPingAt: its last ping sent; answeredPingAt: the send time of the last one answered;
//        lastHeardAt: the last frame it heard
//   {"type":"reconnecting","i","attempt","delayMs","t"}        each reconnect the client schedules
//   {"type":"error","i","code"}                               client errors but socket noise
// Commands on stdin ({"id","cmd",…}; the answer carries "re": id):
//   connect              → connects every client, in batches
//   send {tag,perClient} → each client sends perClient messages {id:"<prefix>:<i>:<tag>:<k>"}
//   silence {indices}    → those clients stop pinging (heartbeat.pause()) and, once the
//                          server has closed them, close for good instead of reconnecting
//   states               → {"type":"states","states":{state: count}}
//   close                → every client closes (1000), then exit 0 ({"type":"closed","t"})
// It exits when stdin closes.
import { createInterface } from "node:readline";
import { ClientErrorCode, createClient, type HeartlineClient } from "@heartline/client";

export interface SwarmConfig {
  readonly url: string;
  readonly count: number;
  /** Prefix of message ids, unique per swarm. */
  readonly prefix: string;
  readonly reconnect: { baseMs: number; capMs: number; stableAfterMs: number };
  readonly connectTimeoutMs: number;
  /** Clients connected per event-loop turn. */
  readonly batch: number;
  readonly outboxMaxMessages?: number;
}

const config = JSON.parse(process.env.HL_SWARM ?? "{}") as SwarmConfig;
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** Expected during outages (refused connects, torn sockets): the disconnect lines tell the story. */
const quietErrors: ReadonlySet<string> = new Set([
  ClientErrorCode.SocketError,
  ClientErrorCode.ConnectTimeout,
]);

const silenced = new Set<number>();
const clients: HeartlineClient[] = [];
for (let i = 0; i < config.count; i++) {
  const client = createClient({
    url: config.url,
    reconnect: config.reconnect,
    connectTimeoutMs: config.connectTimeoutMs,
    ...(config.outboxMaxMessages !== undefined && {
      outbox: { maxUnackedMessages: config.outboxMaxMessages },
    }),
    on: {
      open: ({ sessionId }) => out({ type: "open", i, sessionId, t: Date.now() }),
      disconnect: ({ reason, code, willReconnect }) => {
        const { lastPingAt, lastHeardAt } = client.stats;
        // The send time of the last ping the server answered (its pong, the
        // last frame heard, came rttMs after it): proof the server read it.
        const latest = client.rtt.latestMs;
        const answeredPingAt =
          lastHeardAt !== undefined && latest !== undefined ? lastHeardAt - latest : undefined;
        out({
          type: "disconnect",
          ...{ i, reason, code, willReconnect, lastPingAt, answeredPingAt, lastHeardAt },
          t: Date.now(),
        });
        if (silenced.has(i)) client.close();
      },
      reconnecting: ({ attempt, delayMs }) =>
        out({ type: "reconnecting", i, attempt, delayMs, t: Date.now() }),
      error: (error) => {
        if (!quietErrors.has(error.code)) out({ type: "error", i, code: error.code });
      },
    },
  });
  clients.push(client);
}
out({ type: "ready" });

async function connectAll(): Promise<void> {
  for (let i = 0; i < clients.length; i++) {
    clients[i]!.connect();
    if ((i + 1) % config.batch === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

for await (const text of createInterface({ input: process.stdin })) {
  const command = JSON.parse(text) as {
    id: number;
    cmd: string;
    tag?: string;
    perClient?: number;
    indices?: number[];
  };
  const re = command.id;
  if (command.cmd === "connect") {
    await connectAll();
    out({ type: "connecting", re });
  } else if (command.cmd === "send") {
    let accepted = 0;
    let refused = 0;
    clients.forEach((client, i) => {
      for (let k = 0; k < (command.perClient ?? 1); k++) {
        if (client.send({ id: `${config.prefix}:${i}:${command.tag}:${k}` })) accepted++;
        else refused++;
      }
    });
    out({ type: "sent", re, accepted, refused });
  } else if (command.cmd === "silence") {
    for (const i of command.indices ?? []) {
      silenced.add(i);
      clients[i]!.heartbeat.pause();
    }
    out({ type: "silenced", re });
  } else if (command.cmd === "states") {
    const states: Record<string, number> = {};
    for (const client of clients) states[client.state] = (states[client.state] ?? 0) + 1;
    out({ type: "states", re, states });
  } else if (command.cmd === "close") {
    const t = Date.now();
    for (const client of clients) client.close();
    out({ type: "closed", re, t });
    // Exit once the answer is flushed: a pipe the parent reads slowly can make
    // stdout asynchronous, and process.exit() would drop the line.
    process.stdout.write("", () => process.exit(0));
  }
}
process.exit(0);

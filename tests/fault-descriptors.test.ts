// Issue 15, descriptor exhaustion: a server in a child process under
// `prlimit --nofile=N:N`. What Node 20 does at the limit: libuv keeps one
// spare descriptor, and when accept() fails with EMFILE it closes the spare,
// accepts the pending connection and closes it at once, then reopens the
// spare; no `error` reaches the net.Server. So the client sees a bare reset
// (or a close) and the server reports nothing. What this case checks is what
// is true of that: no crash, the connections already open carry on, and the
// server accepts again once descriptors free up; any EMFILE Node does surface
// is reported once per episode (errors == acceptErrorEpisodes). And with
// `maxConnections` below the limit, the same rush gets 503 + Retry-After
// instead of resets. Bounded: N = 128, at most 160 connection attempts.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SUBPROTOCOL } from "@heartline/protocol";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { report } from "./support/measure.js";
import { within } from "./support/raw-client.js";

const LIMIT = 128;
const intervalMs = 500;
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const hasPrlimit = process.platform === "linux";

type Line = { type: string; [key: string]: unknown };

function startLimited(config: { maxConnections?: number }) {
  const child = spawn(
    "prlimit",
    [
      `--nofile=${LIMIT}:${LIMIT}`,
      process.execPath,
      "--conditions",
      "heartline-source",
      "--import",
      "tsx",
      fileURLToPath(new URL("./support/fd-limit-server.ts", import.meta.url)),
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, HL_FD: JSON.stringify({ intervalMs, ...config }) },
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines: Line[] = [];
  const waiters: (() => void)[] = [];
  let exit: number | null | undefined;
  child.once("exit", (code) => {
    exit = code;
  });
  createInterface({ input: child.stdout! }).on("line", (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      return;
    }
    for (const w of waiters.splice(0)) w();
  });
  const next = (type: string, from = 0): Promise<Line> =>
    within(
      new Promise<Line>((resolve) => {
        const look = () => {
          const found = lines.slice(from).find((l) => l.type === type);
          if (found) resolve(found);
          else waiters.push(look);
        };
        look();
      }),
      30_000,
      `the child's ${type} line`,
    );
  const stats = async (): Promise<Line> => {
    const from = lines.length;
    child.stdin!.write("stats\n");
    return next("stats", from);
  };
  return { child, lines, next, stats, exited: () => exit !== undefined };
}

type Outcome =
  | { kind: "open"; ws: WebSocket }
  | { kind: "refused"; status: number; retryAfter: string | undefined }
  | { kind: "failed" };

function attempt(port: number): Promise<Outcome> {
  return within(
    new Promise<Outcome>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, SUBPROTOCOL);
      ws.on("error", () => resolve({ kind: "failed" }));
      ws.once("close", () => resolve({ kind: "failed" }));
      ws.once("unexpected-response", (_req, res) => {
        resolve({
          kind: "refused",
          status: res.statusCode ?? -1,
          retryAfter: res.headers["retry-after"] as string | undefined,
        });
        ws.terminate();
      });
      // Open means the welcome came: the server holds the connection.
      ws.once("message", () => resolve({ kind: "open", ws }));
    }),
    10_000,
    "an attempt's outcome",
  );
}

/** Whether an open client still gets a pong. */
function pongs(ws: WebSocket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    ws.on("message", (data) => {
      if (JSON.parse(data.toString()).type === "pong") {
        clearTimeout(timer);
        resolve(true);
      }
    });
    ws.send(JSON.stringify({ type: "ping", seq: 1 }));
  });
}

const children: ReturnType<typeof startLimited>[] = [];
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const c of children.splice(0)) c.child.kill("SIGKILL");
});

describe.skipIf(!hasPrlimit)(`descriptor exhaustion under prlimit --nofile=${LIMIT}`, () => {
  it("no limit configured: no crash, open connections carry on, accepts resume once descriptors free up", async () => {
    const server = startLimited({});
    children.push(server);
    const { port, fds } = await server.next("ready");
    const outcomes: Outcome[] = [];
    // Past the limit: in batches, each held open.
    for (let batch = 0; batch < 8; batch++) {
      outcomes.push(
        ...(await Promise.all(Array.from({ length: 20 }, () => attempt(port as number)))),
      );
    }
    const open = outcomes.flatMap((o) => (o.kind === "open" ? [o.ws] : []));
    sockets.push(...open);
    const failed = outcomes.filter((o) => o.kind === "failed").length;
    expect(open.length).toBeLessThan(LIMIT);
    expect(failed).toBeGreaterThan(0);
    expect(open.length + failed).toBe(outcomes.length);
    expect(server.exited()).toBe(false);
    // The ones it holds carry on.
    const answered = await Promise.all(open.slice(0, 10).map(pongs));
    expect(answered.every(Boolean)).toBe(true);
    const atLimit = await server.stats();
    expect(atLimit.open).toBe(open.length);
    // Once per episode where Node surfaces it at all (it normally does not: libuv absorbs EMFILE).
    const errors = server.lines.filter(
      (l) => l.type === "error" && l.code === "descriptors_exhausted",
    );
    expect(errors.length).toBe(atLimit.acceptErrorEpisodes);
    // Recovery: free half, and a new client gets in.
    for (const ws of open.splice(0, 40)) ws.close();
    let again: Outcome = { kind: "failed" };
    for (let i = 0; i < 20 && again.kind !== "open"; i++) {
      again = await attempt(port as number);
      if (again.kind !== "open") await new Promise((r) => setTimeout(r, 100));
    }
    expect(again.kind).toBe("open");
    if (again.kind === "open") sockets.push(again.ws);
    report("descriptors-no-limit", {
      limit: LIMIT,
      fdsAtStart: fds,
      attempts: outcomes.length,
      held: atLimit.open,
      failed,
      acceptErrors: atLimit.acceptErrors,
      errorLines: errors.length,
    });
  }, 30_000);

  it("maxConnections below the limit: the rush past it gets 503 with Retry-After, not resets", async () => {
    const server = startLimited({ maxConnections: 1 });
    children.push(server);
    const ready = await server.next("ready");
    // The limit minus what the process already holds, minus room for the refused ones in flight.
    const max = LIMIT - (ready.fds as number) - 30;
    server.child.kill("SIGKILL");
    const sized = startLimited({ maxConnections: max });
    children.push(sized);
    const { port } = await sized.next("ready");
    const outcomes: Outcome[] = [];
    for (let batch = 0; batch < 8; batch++) {
      outcomes.push(
        ...(await Promise.all(Array.from({ length: 20 }, () => attempt(port as number)))),
      );
    }
    const open = outcomes.flatMap((o) => (o.kind === "open" ? [o.ws] : []));
    sockets.push(...open);
    const refused = outcomes.filter((o) => o.kind === "refused");
    expect(open).toHaveLength(max);
    expect(refused).toHaveLength(outcomes.length - max);
    expect(
      refused.every((o) => o.kind === "refused" && o.status === 503 && o.retryAfter === "10"),
    ).toBe(true);
    const stats = await sized.stats();
    expect(stats).toMatchObject({ open: max, upgradesRejected: { 503: outcomes.length - max } });
    expect(sized.lines.filter((l) => l.type === "rejected")).toHaveLength(outcomes.length - max);
    report("descriptors-max-connections", {
      limit: LIMIT,
      maxConnections: max,
      refused503: refused.length,
    });
  }, 30_000);
});

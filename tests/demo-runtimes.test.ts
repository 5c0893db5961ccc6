// `pnpm demo`, `pnpm demo:bun` and `pnpm demo:deno`, checked from outside as
// a user would: the command (scripts/demo.mjs) with the documented
// environment settings, the page over HTTP, the wire with a `ws` client, the
// JSON lines on stdout, and SIGTERM. Each check is the same for the three
// runtimes: Node is the reference the other two must match.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CloseCode, SUBPROTOCOL } from "@heartline/protocol";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connectRaw, type RawClient, within } from "./support/raw-client.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const INTERVAL_MS = 200; // a silent client is closed 4000 at 400 ms
const ALLOWED = "http://allowed.test";
const RESUME_WINDOW_MS = 3000;

interface Demo {
  readonly child: ChildProcess;
  readonly url: string;
  readonly ws: string;
  /** Every stdout line, parsed (the test fails on one that is not JSON). */
  readonly events: Array<Record<string, unknown>>;
  readonly stdout: string[];
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  next(
    match: (e: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

async function startDemo(runtime: "node" | "bun" | "deno"): Promise<Demo> {
  const child = spawn(
    process.execPath,
    ["scripts/demo.mjs", ...(runtime === "node" ? [] : [runtime])],
    {
      cwd: root,
      // Its own process group, so the cleanup also ends the server it started.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        // The demo's in-memory default: CI's REDIS_URL is there for the Redis tests.
        REDIS_URL: "",
        PORT: "0",
        HOST: "127.0.0.1",
        HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS),
        ALLOWED_ORIGINS: ALLOWED,
        RESUME_WINDOW_MS: String(RESUME_WINDOW_MS),
        MAX_CONNECTIONS_PER_ADDRESS: "3",
        MAX_CONNECTIONS: "50",
        RECONNECT_WINDOW_MIN_MS: "0",
        RECONNECT_WINDOW_MAX_MS: "0",
      },
    },
  );
  started.push(child);
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const events: Array<Record<string, unknown>> = [];
  const stdout: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    stdout.push(line);
    events.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of [...waiters]) wake();
  });
  let stderr = "";
  const url = await within(
    new Promise<string>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const listening = /listening on (http:\/\/[^;\s]+)/.exec(stderr);
        if (listening?.[1] !== undefined) resolve(listening[1]);
      });
      void exited.then(([code]) => reject(new Error(`demo exited with ${code}: ${stderr}`)));
    }),
    60_000,
    `the ${runtime} demo's listening line`,
  );
  return {
    child,
    url,
    ws: `${url.replace("http", "ws")}ws`,
    events,
    stdout,
    exited,
    next(match, what) {
      return within(
        new Promise((resolve) => {
          const check = (): void => {
            const found = events.find(match);
            if (found === undefined) return;
            waiters.delete(check);
            resolve(found);
          };
          waiters.add(check);
          check();
        }),
        10_000,
        what,
      );
    },
  };
}

/** The refusal status of an upgrade with these settings. */
async function upgradeStatus(url: string, origin?: string): Promise<number> {
  const ws = new WebSocket(url, [SUBPROTOCOL], origin === undefined ? {} : { origin });
  ws.on("error", () => {});
  const [, response] = (await within(
    once(ws, "unexpected-response"),
    5000,
    `a refusal (origin ${origin})`,
  )) as [unknown, { statusCode: number }];
  ws.terminate();
  return response.statusCode;
}

function framesUntil(c: RawClient, count: number): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (c.frames.length >= count) resolve();
      };
      c.ws.on("message", check);
      check();
    }),
    5000,
    `${count} frames`,
  );
}

/** Pings every X/2 so the client stays alive (its pongs land in `frames`). */
function keepPinging(c: RawClient): NodeJS.Timeout {
  let seq = 100;
  return setInterval(() => {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify({ type: "ping", seq: seq++ }));
  }, INTERVAL_MS / 2);
}

describe.each(["node", "bun", "deno"] as const)("the demo on %s", (runtime) => {
  it("serves the page and speaks the same wire and the same JSON lines", async () => {
    const demo = await startDemo(runtime);
    // The page, its bundle, and the WebSocket endpoint's answer to plain HTTP.
    const page = await fetch(demo.url);
    expect([page.status, page.headers.get("content-type")]).toEqual([
      200,
      "text/html; charset=utf-8",
    ]);
    expect(await page.text()).toContain('id="pause-heartbeats"');
    expect(await (await fetch(new URL("/page.js", demo.url))).text()).toContain("heartline.v1");
    expect((await fetch(new URL("/ws", demo.url))).status).toBe(426);
    expect((await fetch(new URL("/nothing", demo.url))).status).toBe(404);

    // welcome (with the resume terms RESUME_WINDOW_MS sets), pong, echo.
    const resumable = new WebSocket(demo.ws, [SUBPROTOCOL, "heartline.resume"], {
      origin: ALLOWED,
    });
    resumable.on("error", () => {});
    const [welcomeData] = (await within(once(resumable, "message"), 5000, "a welcome")) as [Buffer];
    const welcome = JSON.parse(welcomeData.toString());
    expect(welcome).toMatchObject({
      type: "welcome",
      protocol: 1,
      heartbeat: { intervalMs: INTERVAL_MS, timeoutMs: 2 * INTERVAL_MS },
      resume: { windowMs: RESUME_WINDOW_MS },
    });
    resumable.close(CloseCode.Normal);

    // Silence: closed 4000 at 2X, printed as a timeout line.
    const silent = await connectRaw(demo.ws);
    expect(await within(silent.closed, 5000, "the 4000")).toBe(CloseCode.HeartbeatTimeout);
    const timedOut = await demo.next(
      (e) => e.event === "disconnect" && e.sessionId === silent.sessionId,
      "the timeout line",
    );
    expect([timedOut.reason, timedOut.code]).toEqual(["timeout", 4000]);

    const pinging: NodeJS.Timeout[] = [];
    const c = await connectRaw(demo.ws);
    c.ws.send(JSON.stringify({ type: "ping", seq: 1 }));
    c.ws.send(JSON.stringify({ type: "message", data: "hello" }));
    await framesUntil(c, 2);
    // From here on it pings, as a live client does.
    expect(c.frames).toEqual([
      { type: "pong", seq: 1 },
      { type: "message", data: "hello" },
    ]);
    pinging.push(keepPinging(c));

    // ALLOWED_ORIGINS: another origin is refused 403; MAX_CONNECTIONS_PER_ADDRESS=3: the 4th, 429.
    expect(await upgradeStatus(demo.ws, "http://evil.test")).toBe(403);
    const more = await Promise.all([connectRaw(demo.ws), connectRaw(demo.ws)]);
    pinging.push(...more.map(keepPinging));
    expect(await upgradeStatus(demo.ws)).toBe(429);

    // SIGTERM: goodbye, then 1001, to everyone; one disconnect line each; exit 0.
    demo.child.kill("SIGTERM");
    for (const client of [c, ...more]) {
      expect(await within(client.closed, 10_000, "the 1001")).toBe(CloseCode.GoingAway);
      expect(client.frames.at(-1)).toEqual({ type: "goodbye", reconnect: { minMs: 0, maxMs: 0 } });
      const line = await demo.next(
        (e) => e.event === "disconnect" && e.sessionId === client.sessionId,
        "its disconnect line",
      );
      expect([line.reason, line.code]).toEqual(["server_closed", 1001]);
    }
    expect(await within(demo.exited, 15_000, "the exit")).toEqual([0, null]);
    for (const timer of pinging) clearInterval(timer);

    // Nothing but event lines on stdout, each with the same fields on every runtime.
    const shapes = demo.events.map((e) => `${e.event}:${Object.keys(e).sort().join(",")}`);
    expect(new Set(shapes)).toEqual(
      new Set([
        "connect:at,event,sessionId",
        "disconnect:at,code,event,reason,sessionId",
        "session_end:at,event,reason,sessionId,undelivered",
        "upgrade_rejected:address,at,event,host,origin,reason,status",
      ]),
    );
    // One connect and one disconnect line per connection: 2 + 1 + 1 + 2 (+ 0 for the refused).
    expect(demo.events.filter((e) => e.event === "connect")).toHaveLength(5);
    expect(demo.events.filter((e) => e.event === "disconnect")).toHaveLength(5);
    // Each refused upgrade (the cross-site origin, the per-address limit): one line with its status.
    expect(
      demo.events
        .filter((e) => e.event === "upgrade_rejected")
        .map((e) => (e as { status?: number }).status)
        .sort(),
    ).toEqual([403, 429]);
  }, 90_000);
});

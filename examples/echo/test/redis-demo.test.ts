// The demo with REDIS_URL (issue 25, point 8): two demo processes on
// different ports share one Redis (a redis-server of this test's own, on a
// free loopback port), and a client's session opened on one resumes on the
// other, with the message sent across the gap echoed exactly once. Each demo
// is the real command (server.ts from source), read through its JSON lines.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient, type HeartlineClient } from "@heartline/client";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { skipRedisTests } from "../../../packages/redis/test/support/redis-env.js";
import {
  disposeAllRedisServers,
  startRedisServer,
} from "../../../tests/support/redis-server-process.js";
import type { EchoEvent } from "../echo-server.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

interface Demo {
  readonly child: ChildProcess;
  readonly port: number;
  readonly events: EchoEvent[];
}

const demos: Demo[] = [];
const clients: HeartlineClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(
    demos.splice(0).map(async (d) => {
      if (d.child.exitCode !== null || d.child.signalCode !== null) return;
      const gone = once(d.child, "exit");
      d.child.kill("SIGKILL");
      await gone;
    }),
  );
});
afterAll(disposeAllRedisServers);

async function startDemo(redisUrl: string, nodeId: string): Promise<Demo> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions", "heartline-source", "examples/echo/server.ts"],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: "0",
        HEARTBEAT_INTERVAL_MS: "200",
        RECONNECT_WINDOW_MIN_MS: "0",
        RECONNECT_WINDOW_MAX_MS: "0",
        REDIS_URL: redisUrl,
        NODE_ID: nodeId,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const events: EchoEvent[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    events.push(JSON.parse(line) as EchoEvent);
  });
  let stderr = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`demo ${nodeId} did not start: ${stderr}`)),
      20_000,
    );
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`demo ${nodeId} exited (${code}): ${stderr}`));
    });
  });
  const demo = { child, port, events };
  demos.push(demo);
  return demo;
}

async function until<T>(what: string, check: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skipRedisTests)("the demo with REDIS_URL", () => {
  it("two demos on one Redis share sessions: a client's session resumes on the other demo", async () => {
    const redis = await startRedisServer({ name: "demo redis" });
    const [one, two] = await Promise.all([
      startDemo(redis.url, "demo-1"),
      startDemo(redis.url, "demo-2"),
    ]);
    // Every socket the client opens, so the test can cut the first without a close frame.
    const sockets: WebSocket[] = [];
    class Recorded extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    let target = one!;
    const echoes: string[] = [];
    const drops: { willResume: boolean }[] = [];
    const client = createClient<string, string>({
      url: () => `ws://127.0.0.1:${target.port}/ws`,
      WebSocket: Recorded as never,
      reconnect: { baseMs: 10, capMs: 50 },
      on: { message: (data) => void echoes.push(data), disconnect: (e) => void drops.push(e) },
    });
    clients.push(client as HeartlineClient);
    client.connect();
    await until("the client open on demo 1", () => (client.state === "open" ? true : undefined));
    const sessionId = client.sessionId!;
    client.send("before");
    await until("the first echo", () => (echoes.includes("before") ? true : undefined));

    target = two!;
    sockets[0]!.terminate(); // lost, not closed: the session stays resumable
    client.send("across"); // queued while the client reconnects
    // Demo 1's welcome offered resumption: it listens only once its Redis
    // client is ready (before that, new sessions are plain v1, the outage rule).
    expect(await until("the drop", () => drops[0])).toMatchObject({ willResume: true });
    const resume = await until("demo 2's resume line", () =>
      two!.events.find((e) => e.event === "resume"),
    );
    expect(resume).toMatchObject({ event: "resume", sessionId });
    await until("the echo across the gap", () => (echoes.includes("across") ? true : undefined));
    expect(client.sessionId).toBe(sessionId);
    expect(echoes).toEqual(["before", "across"]);
    // Demo 1 reported its connection's end, and neither demo ended the session.
    expect(one!.events.filter((e) => e.event === "disconnect")).toMatchObject([
      { sessionId, reason: "connection_lost" },
    ]);
    expect([...one!.events, ...two!.events].filter((e) => e.event === "session_end")).toEqual([]);
    expect(two!.events.filter((e) => e.event === "connect")).toMatchObject([{ sessionId }]);
  }, 60_000);
});

// A SIGTERM deploy of the echo demo behind nginx (README configuration),
// measured: the old process drains (DRAIN_MS: new upgrades 503 with
// Retry-After, /readyz 503, its clients kept), says goodbye (1001), exits;
// a new process is started on the same port at once (as a process manager
// restarts a service). A prober upgrades through nginx every 25 ms the whole
// time and counts what nginx answered: 101, 503 (drain), 502 (nothing
// listening: the restart gap).
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { replaceIn, skipNginxTests, startNginx } from "./support/nginx.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const DRAIN_MS = 1500;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Demo {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
  readonly lines: object[];
  /** When the process said it began draining (its SIGTERM handled). */
  readonly drainingAt: () => number | undefined;
}

/** examples/echo/server.ts as `pnpm demo` runs it (the page bundle is built by other tests or `pnpm demo`). */
async function startDemo(port: number, drainMs = DRAIN_MS): Promise<Demo> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions", "heartline-source", "examples/echo/server.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        // The demo's in-memory default: CI's REDIS_URL is there for the Redis tests.
        REDIS_URL: "",
        PORT: String(port),
        TRUST_PROXY: "1",
        DRAIN_MS: String(drainMs),
        RECONNECT_WINDOW_MIN_MS: "0",
        RECONNECT_WINDOW_MAX_MS: "1000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const lines: object[] = [];
  let drainingAt: number | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(JSON.parse(line)));
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the demo did not start in 15 s")), 15_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (line.includes("draining for")) drainingAt ??= Date.now();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", () => reject(new Error("the demo exited before listening")));
  });
  return { child, port: bound, exited, lines, drainingAt: () => drainingAt };
}

/** One upgrade through nginx: the status it got (101 once open, then closed at once). */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, "heartline.v1");
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? -1);
      response.resume();
      ws.terminate();
    });
    ws.once("error", () => resolve(-1));
  });
}

describe.skipIf(skipNginxTests)("a SIGTERM deploy behind nginx, with drain", () => {
  it("drains (503 + Retry-After, clients kept), says goodbye, and the restart gap is counted", async () => {
    const first = await startDemo(0);
    const nginx = await startNginx(first.port);
    cleanups.push(() => nginx.stop());
    const url = `ws://127.0.0.1:${nginx.port}/ws`;

    // Three clients through the proxy, recording when each hears goodbye and its close.
    const clients = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<{ goodbyeAt?: number; closedAt?: number; code?: number }>(
            (resolve, reject) => {
              const ws = new WebSocket(url, "heartline.v1");
              cleanups.push(() => ws.terminate());
              const record: { goodbyeAt?: number; closedAt?: number; code?: number } = {};
              ws.on("message", (data) => {
                if (JSON.parse(String(data)).type === "goodbye") record.goodbyeAt = Date.now();
              });
              ws.once("close", (code) => {
                record.closedAt = Date.now();
                record.code = code;
              });
              ws.once("open", () => resolve(record));
              ws.once("error", reject);
            },
          ),
      ),
    );

    // The prober: an upgrade every 25 ms, and /readyz, from SIGTERM until the new process answers 101.
    const seen: Array<{ at: number; status: number }> = [];
    const ready: number[] = [];
    let retryAfter: string | null = null;
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const at = Date.now();
        const status = await probe(url);
        seen.push({ at, status });
        const readyz = await fetch(`${nginx.origin}/readyz`).catch(() => undefined);
        if (readyz !== undefined) {
          ready.push(readyz.status);
          if (readyz.status === 503 && retryAfter === null)
            retryAfter = readyz.headers.get("retry-after");
          await readyz.arrayBuffer();
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    const sigterm = Date.now();
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const exitedAt = Date.now();
    const second = await startDemo(first.port);
    // Until the new process takes an upgrade through nginx.
    const deadline = Date.now() + 20_000;
    while (!seen.some((s) => s.at > exitedAt && s.status === 101) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    probing = false;
    await prober;
    second.child.kill("SIGTERM");
    await second.exited;

    const during = (from: number, to: number) => seen.filter((s) => s.at >= from && s.at < to);
    // From the moment the process handled SIGTERM (signal delivery takes a
    // while on a loaded machine; a probe before it was still let in).
    const drainStart = first.drainingAt()!;
    const drain = during(drainStart, drainStart + DRAIN_MS - 100);
    const gap = during(exitedAt, Number.POSITIVE_INFINITY);
    const firstUp = gap.find((s) => s.status === 101)!;
    const count = (list: typeof seen, status: number) =>
      list.filter((s) => s.status === status).length;
    const figures = {
      drainMs: DRAIN_MS,
      sigtermHandledAfterMs: drainStart - sigterm,
      probesDuringDrain: drain.length,
      drain503: count(drain, 503),
      goodbyeAfterSigtermMs: clients.map((c) => (c.goodbyeAt ?? 0) - sigterm),
      exitAfterSigtermMs: exitedAt - sigterm,
      gapMs: firstUp.at - exitedAt,
      gap502: count(gap, 502),
      gap503: count(gap, 503),
      other: seen.filter((s) => ![101, 502, 503].includes(s.status)).map((s) => s.status),
      readyz503: ready.filter((s) => s === 503).length,
      readyz502: ready.filter((s) => s === 502).length,
    };
    console.log(`deploy through nginx: ${JSON.stringify(figures)}`);

    // The drain: every upgrade refused 503, none cut; /readyz 503 with Retry-After.
    expect(drain.length).toBeGreaterThan(5);
    expect(drain.every((s) => s.status === 503)).toBe(true);
    expect(retryAfter).not.toBeNull();
    // The clients were kept for the drain, then told goodbye and closed 1001.
    for (const client of clients) {
      expect(client.goodbyeAt! - drainStart).toBeGreaterThanOrEqual(DRAIN_MS - 50);
      expect(client.code).toBe(1001);
    }
    // Every refusal nginx gave was a 503 (drain) or a 502 (nothing listening): no reset, no hang.
    expect(figures.other).toEqual([]);
    const refusalLines = first.lines.filter(
      (l) => (l as { event?: string }).event === "upgrade_rejected",
    ) as Array<{ status: number; reason: string }>;
    expect(refusalLines.length).toBeGreaterThanOrEqual(figures.drain503);
    expect(refusalLines.every((l) => l.status === 503 && l.reason === "server_closing")).toBe(true);
  }, 60_000);

  it("with two upstreams and proxy_next_upstream http_503, a drained deploy of one fails no upgrade", async () => {
    const [a, b] = [await startDemo(0), await startDemo(0)];
    // The README's server block, with an upstream of both: nginx retries an
    // upgrade the draining one refuses (503) on the other, and skips the
    // stopped one (connection refused) until it is back.
    const nginx = await startNginx(a.port, (config) =>
      [
        `upstream heartline { server 127.0.0.1:${a.port} max_fails=0; server 127.0.0.1:${b.port} max_fails=0; }`,
        replaceIn(
          replaceIn(
            config,
            `proxy_pass http://127.0.0.1:${a.port};`,
            "proxy_pass http://heartline;",
          ),
          "proxy_read_timeout 60s;",
          "proxy_read_timeout 60s;\n        proxy_next_upstream error timeout http_502 http_503;",
        ),
      ].join("\n"),
    );
    cleanups.push(() => nginx.stop());
    const url = `ws://127.0.0.1:${nginx.port}/ws`;
    const seen: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        seen.push(await probe(url));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    const restarted = await startDemo(a.port);
    await new Promise((resolve) => setTimeout(resolve, 300));
    probing = false;
    await prober;
    restarted.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    await Promise.all([restarted.exited, b.exited]);
    const refusedByA = a.lines.filter(
      (l) => (l as { event?: string }).event === "upgrade_rejected",
    );
    console.log(
      `two upstreams: ${seen.length} upgrades through nginx, ${seen.filter((s) => s !== 101).length} failed; ` +
        `${refusedByA.length} refused 503 by the draining one and retried on the other`,
    );
    expect(seen.length).toBeGreaterThan(20);
    expect(seen.filter((s) => s !== 101)).toEqual([]);
    expect(refusedByA.length).toBeGreaterThan(0);
  }, 60_000);
});

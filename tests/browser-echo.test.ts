// The echo demo (examples/echo) end to end in headless Chromium: the page's
// controls drive @heartline/client against the demo server, in-process on
// port 0 or as the `pnpm demo` server process (to stop and restart it on the
// same port). Every wait is on a page condition, a WebSocket frame or a
// server event, each with a bounded timeout; the freeze is the one
// deliberate wall-clock wait, and what it caused is checked after it.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CloseCode, DisconnectReason } from "@heartline/protocol";
import type { DisconnectInfo } from "@heartline/server";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildPage } from "../examples/echo/build-page.js";
import {
  type EchoEvent,
  type EchoServer,
  type EchoSessionEvent,
  startEchoServer,
} from "../examples/echo/echo-server.js";
import {
  chromiumArgs,
  chromiumPath,
  launchChromium,
  skipBrowserTests,
} from "./support/chromium.js";

/** X: short, so the whole file runs in seconds. The server's timeout is 2X. */
const INTERVAL_MS = 250;
const TIMEOUT_MS = 2 * INTERVAL_MS;
/** The goodbye window on shutdown (the server's default, 1–10 s, is for real fleets). */
const WINDOW = { minMs: 50, maxMs: 100 };
/** The bound on every wait for something that should happen within a few X. */
const WAIT_MS = 10_000;

const root = fileURLToPath(new URL("..", import.meta.url));

/** Frames one WebSocket of the page sent and received, as Chromium reports them. */
interface SocketFrames {
  url: string;
  sent: string[];
  received: string[];
}

interface DemoPage {
  page: Page;
  sockets: SocketFrames[];
  pageErrors: string[];
}

let browser: Browser;
const contexts: BrowserContext[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

async function openDemo(url: string, context?: BrowserContext): Promise<DemoPage> {
  if (context === undefined) {
    context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
  }
  const page = await context.newPage();
  const sockets: SocketFrames[] = [];
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("websocket", (ws) => {
    const frames: SocketFrames = { url: ws.url(), sent: [], received: [] };
    sockets.push(frames);
    ws.on("framesent", ({ payload }) => frames.sent.push(String(payload)));
    ws.on("framereceived", ({ payload }) => frames.received.push(String(payload)));
  });
  await page.goto(url);
  return { page, sockets, pageErrors };
}

async function waitForStatus(page: Page, state: string): Promise<void> {
  // Polled on an interval, not on animation frames: a page woken from a
  // freeze may be hidden, and hidden pages run no animation frames.
  await page.waitForFunction((s) => document.getElementById("status")?.textContent === s, state, {
    timeout: WAIT_MS,
    polling: 20,
  });
}

/** Waits for a log line of `kind` whose text contains `text`. */
async function waitForLog(page: Page, kind: string, text: string, timeout = WAIT_MS) {
  await page.waitForFunction(
    ([k, t]) =>
      [...document.querySelectorAll(`#log li[data-kind="${k}"] .text`)].some((e) =>
        e.textContent?.includes(t ?? ""),
      ),
    [kind, text],
    { timeout, polling: 20 },
  );
}

async function logLines(page: Page): Promise<Array<{ kind: string; text: string }>> {
  return page.$$eval("#log li", (items) =>
    items.map((li) => ({
      kind: (li as HTMLElement).dataset.kind ?? "",
      text: li.querySelector(".text")?.textContent ?? "",
    })),
  );
}

/** The session id from the last `welcome` the page received. */
function lastSessionId(sockets: SocketFrames[]): string | undefined {
  for (const socket of [...sockets].reverse()) {
    for (const frame of socket.received) {
      const message = JSON.parse(frame) as { type: string; sessionId?: string };
      if (message.type === "welcome") return message.sessionId;
    }
  }
  return undefined;
}

const typesOf = (frames: string[]) => frames.map((f) => (JSON.parse(f) as { type: string }).type);
/** The application data of the `message` frames (which carry a `seq` on a resumable session). */
const dataOf = (frames: string[]) =>
  frames
    .map((f) => JSON.parse(f) as { type: string; data?: unknown })
    .filter((m) => m.type === "message")
    .map((m) => m.data);

/** Events pushed by a server, and a way to await one that matches. */
function eventLog<T>() {
  const events: T[] = [];
  const waiters: Array<{ match: (e: T) => boolean; resolve: (e: T) => void }> = [];
  return {
    events,
    push(event: T): void {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (!waiter.match(event)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    next(match: (e: T) => boolean, what: string, ms = WAIT_MS): Promise<T> {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
        waiters.push({
          match,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

async function startInProcess() {
  const echoEvents = eventLog<EchoEvent>();
  const disconnects = eventLog<DisconnectInfo & { reportedAt: number }>();
  const server: EchoServer = await startEchoServer({
    port: 0,
    intervalMs: INTERVAL_MS,
    reconnectWindow: WINDOW,
    on: {
      connect: echoEvents.push,
      disconnect: echoEvents.push,
      resume: echoEvents.push,
      sessionEnd: echoEvents.push,
    },
  });
  cleanups.push(() => server.close());
  // The Heartline server's own report carries lastHeardAt, to time the verdict.
  server.heartline.on("disconnect", (info) =>
    disconnects.push({ ...info, reportedAt: Date.now() }),
  );
  return { server, echoEvents, disconnects };
}

/** The demo server as `pnpm demo` runs it: examples/echo/server.ts under tsx. */
async function startProcess(port: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions", "heartline-source", "examples/echo/server.ts"],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        // The demo's in-memory default: CI's REDIS_URL is there for the Redis tests.
        REDIS_URL: "",
        PORT: String(port),
        HOST: "127.0.0.1",
        HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS),
        RECONNECT_WINDOW_MIN_MS: String(WINDOW.minMs),
        RECONNECT_WINDOW_MAX_MS: String(WINDOW.maxMs),
      },
    },
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  // "close", not "exit": every line the process wrote has been read by then (a busy CI run once
  // resolved "exit" before the last stdout line, session_end, had arrived).
  const exited = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>;
  // stdout must hold nothing but the JSON event lines.
  const lines = eventLog<EchoSessionEvent>();
  const stdoutLines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    stdoutLines.push(line);
    lines.push(JSON.parse(line) as EchoSessionEvent);
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server not up in ${WAIT_MS} ms: ${stderr}`)),
      WAIT_MS,
    );
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const listening = /listening on (http:\/\/[^;\s]+)/.exec(stderr);
      if (listening?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(listening[1]);
      }
    });
    void exited.then(([code]) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, url, port: Number(new URL(url).port), lines, stdoutLines, exited };
}

/**
 * A Chromium whose default context Playwright leaves alone, for the freeze.
 * Playwright turns on focus emulation for every page it manages, and that
 * keeps a page "visible" to the renderer; Chromium only freezes a hidden page,
 * so `Page.setWebLifecycleState` would be a silent no-op. Attached over CDP
 * with `noDefaults`, the default context's pages get no focus emulation.
 */
async function launchFreezableChromium(): Promise<BrowserContext> {
  if (chromiumPath === undefined) throw new Error("no Chromium to launch");
  const profile = mkdtempSync(join(tmpdir(), "heartline-chromium-"));
  const child = spawn(
    chromiumPath,
    [
      "--headless",
      ...chromiumArgs,
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    // Its own process group, so the cleanup reaches Chromium's helper processes too.
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  const exited = once(child, "exit");
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  cleanups.push(async () => {
    // SIGTERM first: SIGKILL would leave helpers writing into the profile.
    signalGroup("SIGTERM");
    const timer = setTimeout(() => signalGroup("SIGKILL"), WAIT_MS);
    await exited;
    clearTimeout(timer);
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (error) {
      // A leftover temporary profile is untidy, not a failed test.
      console.warn(`could not remove ${profile}: ${String(error)}`);
    }
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`no DevTools endpoint: ${stderr}`)), WAIT_MS);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /DevTools listening on (ws:\S+)/.exec(stderr)?.[1];
      if (found === undefined) return;
      clearTimeout(timer);
      resolve(found);
    });
  });
  const cdpBrowser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  return cdpBrowser.contexts()[0]!;
}

describe.skipIf(skipBrowserTests)("the echo demo in Chromium", () => {
  beforeAll(async () => {
    await buildPage();
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("connects, sends, shows the echo in the log, and closes", async () => {
    const { server, echoEvents } = await startInProcess();
    const { page, sockets, pageErrors } = await openDemo(server.url);

    await expect(page.inputValue("#url")).resolves.toBe(`ws://127.0.0.1:${server.port}/ws`);
    await expect(page.textContent("#status")).resolves.toBe("closed");
    await page.click("#connect");
    await waitForStatus(page, "open");
    const sessionId = lastSessionId(sockets);
    expect(sessionId).toBeDefined();
    await echoEvents.next((e) => e.event === "connect" && e.sessionId === sessionId, "connect");
    await waitForLog(page, "open", `session ${sessionId}`);

    await page.fill("#message", "hello from Chromium");
    await page.click("#send");
    await waitForLog(page, "receive", "hello from Chromium");
    const socket = sockets[0]!;
    expect(dataOf(socket.sent)).toContain("hello from Chromium");
    expect(dataOf(socket.received)).toContain("hello from Chromium");

    // The heartbeat panel: the server's terms, and live figures once a pong came back.
    await page.waitForFunction(
      () => Number(document.getElementById("hb-pings")?.textContent) >= 2,
      undefined,
      { timeout: WAIT_MS, polling: 20 },
    );
    await waitForLog(page, "open", `ping every ${INTERVAL_MS} ms, timeout ${TIMEOUT_MS} ms`);
    await expect(page.textContent("#hb-interval")).resolves.toBe(`${INTERVAL_MS} ms`);
    await expect(page.textContent("#hb-timeout")).resolves.toBe(`${TIMEOUT_MS} ms`);
    await expect(page.textContent("#hb-rtt")).resolves.toMatch(/^\d+ ms$/);
    await expect(page.textContent("#hb-last-heard")).resolves.toMatch(/^[\d,]+ ms ago$/);

    await page.click("#close");
    await waitForStatus(page, "closed");
    await waitForLog(
      page,
      "close",
      `code ${CloseCode.Normal}, reason ${DisconnectReason.ClientClosed}`,
    );
    const gone = await echoEvents.next((e) => e.event === "disconnect", "disconnect");
    expect(gone).toMatchObject({
      sessionId,
      reason: DisconnectReason.ClientClosed,
      code: CloseCode.Normal,
    });
    expect((await logLines(page)).map((l) => l.kind)).toEqual([
      "connect",
      "open",
      "send",
      "receive",
      "close",
    ]);
    expect(pageErrors).toEqual([]);
  });

  it("pausing heartbeats gets the client closed with 4000 after 2X, and it resumes the same session", async () => {
    const { server, echoEvents, disconnects } = await startInProcess();
    const { page, sockets } = await openDemo(server.url);
    await page.click("#connect");
    await waitForStatus(page, "open");
    const first = lastSessionId(sockets)!;

    await page.check("#pause-heartbeats");
    const pausedAt = Date.now();
    const verdict = await disconnects.next((d) => d.sessionId === first, "timeout");
    expect(verdict.reason).toBe(DisconnectReason.Timeout);
    expect(verdict.code).toBe(CloseCode.HeartbeatTimeout);
    // Not before 2X of silence (the real clock; the fake-clock tests pin the exact boundary).
    expect(verdict.reportedAt - verdict.lastHeardAt).toBeGreaterThanOrEqual(TIMEOUT_MS);
    await waitForLog(
      page,
      "close",
      `code ${CloseCode.HeartbeatTimeout}, reason ${DisconnectReason.Timeout}`,
    );
    await waitForLog(page, "reconnect", "attempt 1");

    // The reconnect resumes the same session, on a new socket (the demo's
    // window is 2 minutes), and the log says so.
    await echoEvents.next((e) => e.event === "resume" && e.sessionId === first, "resume line");
    await waitForStatus(page, "open");
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(lastSessionId(sockets)).toBe(first);
    await waitForLog(page, "resume", "resumed after");

    // Paused means silent: the server heard nothing from the client after the switch.
    expect(verdict.lastHeardAt).toBeLessThanOrEqual(pausedAt);

    // Resume: pings flow again on the new socket and get answered.
    await page.uncheck("#pause-heartbeats");
    await waitForLog(page, "heartbeat", "resumed");
    await expect
      .poll(() => typesOf(sockets.at(-1)!.received).filter((t) => t === "pong").length, {
        timeout: WAIT_MS,
      })
      .toBeGreaterThanOrEqual(2);
  });

  it("shows reconnecting while the server is down, and reconnects when it is back on the same port", async () => {
    const firstServer = await startProcess(0);
    const { page, sockets } = await openDemo(firstServer.url);
    await page.click("#connect");
    await waitForStatus(page, "open");
    const first = lastSessionId(sockets)!;
    const connected = await firstServer.lines.next((e) => e.event === "connect", "connect line");
    expect(connected).toEqual({ event: "connect", sessionId: first, at: expect.any(String) });
    expect(Number.isNaN(Date.parse(connected.at))).toBe(false);

    // SIGTERM: goodbye + 1001 to the page, one disconnect line, exit 0.
    firstServer.child.kill("SIGTERM");
    await expect(firstServer.exited).resolves.toEqual([0, null]);
    await waitForStatus(page, "reconnecting");
    await waitForLog(
      page,
      "close",
      `code ${CloseCode.GoingAway}, reason ${DisconnectReason.ServerClosed}`,
    );
    expect(firstServer.stdoutLines.map((l) => JSON.parse(l))).toEqual([
      connected,
      {
        event: "disconnect",
        sessionId: first,
        reason: DisconnectReason.ServerClosed,
        code: CloseCode.GoingAway,
        at: expect.any(String),
      },
      // The process ends every session it holds before close() resolves (they live in its memory).
      {
        event: "session_end",
        sessionId: first,
        reason: "server_closed",
        undelivered: 0,
        at: expect.any(String),
      },
    ]);
    expect(typesOf(sockets[0]!.received)).toContain("goodbye");

    // Back on the same port: the page reconnects by itself.
    const secondServer = await startProcess(firstServer.port);
    const back = await secondServer.lines.next((e) => e.event === "connect", "reconnect line");
    await waitForStatus(page, "open");
    expect(back.sessionId).toBe(lastSessionId(sockets));
    expect(back.sessionId).not.toBe(first);

    // SIGINT stops it the same way.
    secondServer.child.kill("SIGINT");
    await expect(secondServer.exited).resolves.toEqual([0, null]);
    expect(secondServer.stdoutLines.map((l) => JSON.parse(l))).toEqual([
      back,
      {
        event: "disconnect",
        sessionId: back.sessionId,
        reason: DisconnectReason.ServerClosed,
        code: CloseCode.GoingAway,
        at: expect.any(String),
      },
      {
        event: "session_end",
        sessionId: back.sessionId,
        reason: "server_closed",
        undelivered: 0,
        at: expect.any(String),
      },
    ]);
  });

  it("after a freeze longer than 2X the server has reported timeout, and on resume the client resumes the session instead of sending into the dead socket", async () => {
    const { server, disconnects, echoEvents } = await startInProcess();
    const { page, sockets, pageErrors } = await openDemo(
      server.url,
      await launchFreezableChromium(),
    );
    await page.click("#connect");
    await waitForStatus(page, "open");
    const first = lastSessionId(sockets)!;
    await page.fill("#message", "sent right after the freeze");

    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Page.setWebLifecycleState", { state: "frozen" });
    const frozenAt = Date.now();
    // The deliberate wall-clock wait: frozen for 2X plus half an interval…
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + INTERVAL_MS / 2));
    // …and what it did: the server has judged the frozen client.
    const verdict = await disconnects.next((d) => d.sessionId === first, "timeout", WAIT_MS);
    expect(verdict.reason).toBe(DisconnectReason.Timeout);
    expect(verdict.code).toBe(CloseCode.HeartbeatTimeout);
    const frozenFor = Date.now() - frozenAt;
    expect(frozenFor).toBeGreaterThan(TIMEOUT_MS);
    const sentBeforeResume = sockets[0]!.sent.length;

    const resumedAt = Date.now();
    await cdp.send("Page.setWebLifecycleState", { state: "active" });
    // Send at once, as a user would on coming back…
    await page.evaluate(() => document.getElementById("send")?.click());
    // …and show the tab again (a frozen page is hidden; hidden pages' timers
    // are throttled to once a second, far slower than this X).
    await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });

    // The client noticed at once that the connection was dead, and reconnected.
    await waitForLog(page, "close", `reason ${DisconnectReason.Timeout}`);
    const closedAt = await page.$eval('#log li[data-kind="close"] time', (t) =>
      Date.parse((t as HTMLTimeElement).dateTime),
    );
    const noticedAfter = closedAt - resumedAt;
    expect(noticedAfter).toBeLessThan(INTERVAL_MS);
    await waitForLog(page, "receive", "sent right after the freeze");
    await waitForStatus(page, "open");
    // The same session, resumed on a new socket.
    expect(lastSessionId(sockets)).toBe(first);
    await echoEvents.next((e) => e.event === "resume" && e.sessionId === first, "resume line");

    // Nothing went into the dead socket after the freeze; the message went
    // out on the new connection.
    const message = "sent right after the freeze";
    expect(sockets[0]!.sent.slice(sentBeforeResume)).toEqual([]);
    expect(dataOf(sockets[0]!.sent)).not.toContain(message);
    expect(dataOf(sockets.at(-1)!.sent)).toContain(message);
    // The log tells the same story: the dead connection closed (timeout), a
    // reconnect, the session resumed, then the echo of the message.
    const kinds = (await logLines(page)).map((l) => l.kind);
    expect(kinds.filter((k) => k !== "send")).toEqual([
      "connect",
      "open",
      "close",
      "reconnect",
      "open",
      "resume",
      "receive",
    ]);
    expect(pageErrors).toEqual([]);
    console.info(
      `freeze: ${frozenFor} ms frozen; the client noticed ${noticedAfter} ms after resume`,
    );
  });
});

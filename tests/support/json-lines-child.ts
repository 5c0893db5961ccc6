// A child Node process (run from TypeScript source through tsx with the
// heartline-source condition) that talks JSON lines: it prints one JSON object
// per line on stdout and takes one command per line on stdin. Every wait here
// resolves on a line and fails after a bounded time; every child is killed by
// `killAllChildren()` (call it in afterAll) and, as a last resort, when the
// test process exits. The scripts also exit by themselves when stdin closes.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Runtime, runtimeCommand } from "./runtimes.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A parsed stdout line and the parent's Date.now() when it arrived. */
export interface Line {
  readonly type: string;
  readonly receivedAt: number;
  readonly [field: string]: unknown;
}

export interface WaitOptions {
  /** Only lines at this index or later (see `lines.length`). Default 0. */
  readonly from?: number;
  /** Default 10,000 ms. */
  readonly timeoutMs?: number;
}

export interface JsonLinesChild {
  readonly pid: number;
  /** Every line so far, in order. */
  readonly lines: readonly Line[];
  readonly exited: boolean;
  /** The first line (from `from`) that matches. */
  waitFor(what: string, match: (line: Line) => boolean, options?: WaitOptions): Promise<Line>;
  /** Resolves once `count` lines (from `from`) matched; gives them all. */
  waitForCount(
    what: string,
    match: (line: Line) => boolean,
    count: number,
    options?: WaitOptions,
  ): Promise<Line[]>;
  /** Sends `{ id, cmd, ...args }` and resolves with the line that answers it (`re: id`). */
  request(cmd: string, args?: object, timeoutMs?: number): Promise<Line>;
  signal(signal: NodeJS.Signals): void;
  /** Sends the signal (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves when the process has exited, with its code or signal. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** SIGKILLs every child still running (SIGKILL also ends a SIGSTOPped one) and waits for them. */
export async function killAllChildren(): Promise<void> {
  const running = [...children];
  await Promise.all(
    running.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, "exit");
      child.kill("SIGKILL");
      await gone;
    }),
  );
}

process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

interface Waiter {
  check(line: Line): void;
}

export async function spawnJsonLinesChild(
  script: string,
  options: {
    env?: Record<string, string>;
    nodeArgs?: readonly string[];
    name: string;
    /** Which runtime runs `script` (default Node, through tsx); see runtimes.ts. */
    runtime?: Runtime;
  },
): Promise<JsonLinesChild> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const [command, args] =
    options.runtime === undefined || options.runtime === "node"
      ? [
          process.execPath,
          [
            "--conditions",
            "heartline-source",
            "--import",
            "tsx",
            ...(options.nodeArgs ?? []),
            path,
          ],
        ]
      : runtimeCommand(options.runtime, path);
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.add(child);
  const lines: Line[] = [];
  const waiters = new Set<Waiter>();
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // "close", not "exit": it comes after stdout is drained, so no line is lost.
    child.once("close", (code, signal) => {
      exited = true;
      children.delete(child);
      resolve({ code, signal });
    });
  });
  // A write to a dead child's stdin must not crash the test process.
  child.stdin!.on("error", () => {});
  createInterface({ input: child.stdout! }).on("line", (text) => {
    let parsed: { type?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      process.stderr.write(`[${options.name}] ${text}\n`);
      return;
    }
    if (typeof parsed !== "object" || parsed === null || typeof parsed.type !== "string") return;
    const line = { ...parsed, receivedAt: Date.now() } as Line;
    lines.push(line);
    for (const waiter of [...waiters]) waiter.check(line);
  });

  function waitForCount(
    what: string,
    match: (line: Line) => boolean,
    count: number,
    waitOptions: WaitOptions = {},
  ): Promise<Line[]> {
    const found = lines.slice(waitOptions.from ?? 0).filter(match);
    if (found.length >= count) return Promise.resolve(found.slice(0, count));
    const timeoutMs = waitOptions.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check(line) {
          if (!match(line)) return;
          found.push(line);
          if (found.length >= count) {
            done();
            resolve(found);
          }
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `${options.name}: timed out after ${timeoutMs} ms waiting for ${what} (${found.length}/${count})`,
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
      void exit.then(({ code, signal }) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (${code ?? signal}) while waiting for ${what}`));
      });
    });
  }

  let nextId = 0;
  const handle: JsonLinesChild = {
    pid: child.pid!,
    lines,
    get exited() {
      return exited;
    },
    exit,
    waitForCount,
    waitFor: async (what, match, waitOptions) =>
      (await waitForCount(what, match, 1, waitOptions))[0]!,
    request(cmd, args = {}, timeoutMs = 10_000) {
      const id = nextId++;
      const answer = waitForCount(`the answer to ${cmd}`, (l) => l.re === id, 1, {
        from: lines.length,
        timeoutMs,
      });
      child.stdin!.write(`${JSON.stringify({ ...args, id, cmd })}\n`);
      return answer.then((found) => found[0]!);
    },
    signal(signal) {
      if (!exited) child.kill(signal);
    },
    async kill(signal = "SIGKILL") {
      if (exited) return;
      child.kill(signal);
      await exit;
    },
  };
  return handle;
}

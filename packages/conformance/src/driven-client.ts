// The client under test, as a child process driven through JSON lines: the
// kit writes commands on its stdin and reads events from its stdout (the
// protocol is in the README, "Client side: the command protocol").
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Violation } from "./report.js";
import { now } from "./wire.js";

/** A command to the client under test. */
export type Command =
  | { cmd: "connect"; url: string }
  | { cmd: "send"; data: unknown }
  | { cmd: "close" };

/** An event line from the client under test, with the time it was read. */
export interface ClientEvent {
  readonly at: number;
  readonly event: string;
  readonly [field: string]: unknown;
}

export class DrivenClient {
  readonly events: ClientEvent[] = [];
  /** stdout lines that were not JSON objects with an `event` (a protocol error of the driver). */
  readonly noise: string[] = [];
  readonly stderr: string[] = [];
  private readonly waiters = new Set<() => void>();
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (
        parsed !== null &&
        typeof parsed === "object" &&
        typeof (parsed as { event?: unknown }).event === "string"
      ) {
        this.events.push({ ...(parsed as { event: string }), at: now() });
      } else if (line.trim() !== "") this.noise.push(line);
      this.wake();
    });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (this.stderr.length < 200) this.stderr.push(line);
    });
    child.once("exit", (code, signal) => {
      this.exited = `exited (${code ?? signal})`;
      this.wake();
    });
    child.once("error", (error) => {
      this.exited = `could not start: ${error.message}`;
      this.wake();
    });
  }

  static async start(command: readonly string[], readyTimeoutMs: number): Promise<DrivenClient> {
    const [file, ...args] = command;
    if (file === undefined) throw new TypeError("no client command given");
    const client = new DrivenClient(spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] }));
    await client.next("ready", () => true, readyTimeoutMs);
    return client;
  }

  /** The features the client declared in its `ready` line. */
  get features(): readonly string[] {
    const ready = this.events.find((e) => e.event === "ready");
    return Array.isArray(ready?.features) ? (ready.features as string[]) : [];
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  command(command: Command): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** Events of this name so far (from index `from`). */
  all(event: string, from = 0): ClientEvent[] {
    return this.events.slice(from).filter((e) => e.event === event);
  }

  async next(
    event: string,
    match: (e: ClientEvent) => boolean,
    timeoutMs: number,
    from = 0,
  ): Promise<ClientEvent> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find((e) => e.event === event && match(e));
      if (found) return found;
      const left = deadline - now();
      if (this.exited !== undefined || left <= 0) {
        const why = this.exited ?? `none within ${timeoutMs} ms`;
        const tail = this.stderr.slice(-5).join(" | ");
        throw new Violation(
          `expected the client's "${event}" event; ${why}${tail ? ` (stderr: ${tail})` : ""}`,
        );
      }
      await new Promise<void>((resolve) => {
        const waiters = this.waiters;
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /** Ends the process (SIGKILL after 1 s if stdin's end and SIGTERM did not). */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin!.end();
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 1000);
    await gone;
    clearTimeout(timer);
  }
}

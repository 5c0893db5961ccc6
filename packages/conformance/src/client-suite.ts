// The client side's settings, and the per-case setup: a fresh scripted
// server and a fresh client process for every case.
import { DrivenClient } from "./driven-client.js";
import { Skip } from "./report.js";
import { type Accepted, ScriptedServer } from "./scripted-server.js";

/** The documented defaults of the client side. */
export const clientSuiteDefaults = Object.freeze({
  /** X announced in the scripted welcome: short, so a run takes seconds. */
  intervalMs: 300,
  /**
   * 100 ms either side of a deadline: the client's own timer lag, the kit's,
   * and the loopback, on a loaded machine (the same budget as the server side).
   */
  toleranceMs: 100,
  /** How long the client may take to print `ready` (a cold `node` or `python3`). */
  readyTimeoutMs: 10_000,
  /**
   * A reconnect after a dropped link must start within this: the contract
   * leaves the backoff's base to the client; 5 s covers any first full-jitter
   * step a client would choose for an unplanned drop.
   */
  reconnectWithinMs: 5000,
});

/** What the client side is told: the command to start the client under test, and timing. */
export interface ClientSuiteOptions {
  /** The command that starts the client under test (it speaks the JSON-lines command protocol). */
  readonly command: readonly string[];
  readonly intervalMs?: number;
  readonly toleranceMs?: number;
  readonly readyTimeoutMs?: number;
  readonly reconnectWithinMs?: number;
}

/** The client side's settings with defaults applied, as the cases read them. */
export interface ClientContext {
  readonly command: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly toleranceMs: number;
  readonly readyTimeoutMs: number;
  readonly reconnectWithinMs: number;
}

/** Applies `clientSuiteDefaults` to the options. */
export function clientContext(options: ClientSuiteOptions): ClientContext {
  const intervalMs = options.intervalMs ?? clientSuiteDefaults.intervalMs;
  return {
    command: options.command,
    intervalMs,
    timeoutMs: 2 * intervalMs,
    toleranceMs: options.toleranceMs ?? clientSuiteDefaults.toleranceMs,
    readyTimeoutMs: options.readyTimeoutMs ?? clientSuiteDefaults.readyTimeoutMs,
    reconnectWithinMs: options.reconnectWithinMs ?? clientSuiteDefaults.reconnectWithinMs,
  };
}

/** A scripted server and a client process told to connect to it. */
export interface Stage {
  readonly server: ScriptedServer;
  readonly client: DrivenClient;
  readonly first: Accepted;
}

/**
 * Runs `script` with a fresh server and client; `feature`, when given, must
 * be declared in the client's `ready` line or the case is skipped.
 */
export async function staged(
  ctx: ClientContext,
  script: (stage: Stage) => Promise<void>,
  feature?: string,
): Promise<void> {
  const server = await ScriptedServer.start();
  let client: DrivenClient | undefined;
  try {
    client = await DrivenClient.start(ctx.command, ctx.readyTimeoutMs);
    if (feature !== undefined && !client.features.includes(feature)) {
      throw new Skip(`the client does not declare "${feature}" in its ready line's features`);
    }
    client.command({ cmd: "connect", url: server.url });
    const first = await server.connection(0, ctx.readyTimeoutMs);
    await script({ server, client, first });
  } finally {
    await client?.stop();
    await server.close();
  }
}

/** A `welcome` frame with the case's terms. */
export function welcomeFrame(
  ctx: ClientContext,
  extra: Record<string, unknown> = {},
  terms = { intervalMs: ctx.intervalMs, timeoutMs: ctx.timeoutMs },
): Record<string, unknown> {
  return {
    type: "welcome",
    protocol: 1,
    sessionId: "conformance-session",
    heartbeat: terms,
    ...extra,
  };
}

// The server side's settings, defaults and the helpers every server case
// shares: connect with the kit's headers, read the welcome, check timing.
import { RESUME_SUBPROTOCOL, SUBPROTOCOL, welcomeSchema } from "@heartline/protocol";
import { expect, Skip } from "./report.js";
import { type OpenOptions, open, type Probe, type Received } from "./wire.js";

/** The documented defaults of the server side (see the README's tolerance section). */
export const serverSuiteDefaults = Object.freeze({
  /**
   * 100 ms: the server's stated timeout tolerance (50 ms, in
   * @heartline/server's README) plus 50 ms for the kit's own timers and the
   * loopback under load. A server that documents a larger one says so with
   * `toleranceMs`.
   */
  toleranceMs: 100,
  /** The longest resume window the expiry case waits out. */
  maxResumeWindowMs: 5000,
});

/** Terms of a token bucket, as `welcome.rate` announces them. */
export interface RateTerms {
  readonly perSecond: number;
  readonly burst: number;
}

/** What the kit is told about the server under test. Only `url` and `intervalMs` are required. */
export interface ServerSuiteOptions {
  /** The WebSocket URL, e.g. `ws://127.0.0.1:5000/ws`; its path is the server's path. */
  readonly url: string;
  /** X, the server's `intervalMs`. */
  readonly intervalMs: number;
  /** The server's `timeoutMs`. Default 2 × `intervalMs`. */
  readonly timeoutMs?: number;
  /** Timing tolerance either side of a deadline. Default `serverSuiteDefaults.toleranceMs`. */
  readonly toleranceMs?: number;
  /** Headers sent with every upgrade (credentials, when the server authenticates). */
  readonly headers?: Readonly<Record<string, string>>;
  /** An origin the server allows (enables the 403 case). */
  readonly allowedOrigin?: string;
  /** The server's `maxPayload` in bytes (enables the 1009 case). */
  readonly maxPayload?: number;
  /** The server's rate limit, if it does not announce it in `welcome`. */
  readonly rateLimit?: RateTerms;
  /** The server's total connection limit (enables the 503 case). */
  readonly maxConnections?: number;
  /** The server's per-address connection limit (enables the 429 case). */
  readonly maxConnectionsPerAddress?: number;
  /**
   * How the server refuses an upgrade without `headers`: 401, or 4401 (accept,
   * then close 4401). Enables the authentication case.
   */
  readonly unauthorized?: 401 | 4401;
  /** The server's application echoes every `message` to its sender (the echo demo does). */
  readonly echo?: boolean;
  /** A `data` value the application's schema refuses (enables the `invalid_payload` case). */
  readonly invalidData?: unknown;
  /** Resumption is on: the resume cases fail, instead of being skipped, if `welcome` lacks `resume`. */
  readonly resume?: boolean;
  /** Makes the server shut down (enables the goodbye case, which runs last). */
  readonly shutdown?: () => Promise<void>;
}

/** The settings with defaults applied, as the cases read them. */
export interface ServerContext extends ServerSuiteOptions {
  readonly timeoutMs: number;
  readonly toleranceMs: number;
}

export function serverContext(options: ServerSuiteOptions): ServerContext {
  if (!(options.intervalMs > 0)) throw new TypeError("intervalMs must be positive");
  return {
    ...options,
    timeoutMs: options.timeoutMs ?? 2 * options.intervalMs,
    toleranceMs: options.toleranceMs ?? serverSuiteDefaults.toleranceMs,
  };
}

/** Fails unless the setting is given; skips with the reason otherwise. */
export function needs<T>(value: T | undefined, setting: string): T {
  if (value === undefined) throw new Skip(`needs ${setting}`);
  return value;
}

export function connect(
  ctx: ServerContext,
  options: OpenOptions = {},
  url: string = ctx.url,
): Promise<Probe> {
  return open(url, {
    protocols: [SUBPROTOCOL],
    ...options,
    headers: { ...ctx.headers, ...options.headers },
  });
}

/** A connection and its `welcome` (checked against the protocol's schema). */
export interface Welcomed {
  readonly probe: Probe;
  readonly welcome: Received;
  readonly sessionId: string;
  readonly resume: { token: string; windowMs: number } | undefined;
  readonly resumed: { ack: number } | undefined;
  readonly resumeFailed: string | undefined;
}

export async function welcomed(probe: Probe, ctx: ServerContext): Promise<Welcomed> {
  const first = await probe.next(() => true, 2000 + ctx.toleranceMs, "the welcome frame");
  expect(first.json?.type === "welcome", `first frame is not welcome: ${first.text}`);
  const parsed = welcomeSchema.safeParse(first.json);
  expect(parsed.success, `welcome does not match the contract: ${first.text}`);
  const w = parsed.data;
  return {
    probe,
    welcome: first,
    sessionId: w.sessionId,
    resume: w.resume,
    resumed: w.resumed,
    resumeFailed: w.resumeFailed,
  };
}

export async function connectWelcomed(
  ctx: ServerContext,
  options: OpenOptions = {},
): Promise<Welcomed> {
  return welcomed(await connect(ctx, options), ctx);
}

/** Opens a resumable session, or skips (or fails, with `resume`) when the server does not offer one. */
export async function resumable(
  ctx: ServerContext,
  offer: string = RESUME_SUBPROTOCOL,
): Promise<Welcomed & { resume: { token: string; windowMs: number } }> {
  const w = await connectWelcomed(ctx, { protocols: [SUBPROTOCOL, offer] });
  if (w.resume === undefined) {
    w.probe.terminate();
    if (ctx.resume) throw new Error("offered heartline.resume; the welcome has no `resume`");
    throw new Skip(
      "the server did not offer resumption (welcome without `resume`); give --resume to require it",
    );
  }
  return w as Welcomed & { resume: { token: string; windowMs: number } };
}

/** Resolves once the connection closes; fails if it closed with another code or not in time. */
export async function expectClose(
  probe: Probe,
  code: number,
  withinMs: number,
  what: string,
): Promise<number> {
  const closed = await probe.closedWithin(withinMs, `close ${code} (${what})`);
  expect(
    closed.code === code,
    `${what}: closed with ${closed.code}${closed.reason ? ` "${closed.reason}"` : ""}, expected ${code}`,
  );
  return closed.at;
}

/**
 * The silence rule from `since` (the time the kit's last data frame was
 * written, or the welcome arrived): still open at `since + T − tolerance`,
 * closed 4000 by `since + T + tolerance`.
 */
export async function expectSilenceClose(
  probe: Probe,
  ctx: ServerContext,
  since: number,
): Promise<void> {
  const aliveUntil = since + ctx.timeoutMs - ctx.toleranceMs;
  await new Promise((r) => setTimeout(r, Math.max(0, aliveUntil - performance.now())));
  expect(
    !probe.isClosed,
    `closed before timeoutMs − tolerance (${ctx.timeoutMs} − ${ctx.toleranceMs} ms)`,
  );
  const at = await expectClose(
    probe,
    4000,
    since + ctx.timeoutMs + ctx.toleranceMs - performance.now(),
    `silence for timeoutMs = ${ctx.timeoutMs} ms`,
  );
  expect(
    at >= since + ctx.timeoutMs - ctx.toleranceMs,
    `closed ${Math.round(since + ctx.timeoutMs - at)} ms before the deadline`,
  );
}

/** Every frame of this `type` received so far (from index `from`). */
export function framesOfType(probe: Probe, type: string, from = 0): Received[] {
  return probe.frames.slice(from).filter((f) => f.json?.type === type);
}

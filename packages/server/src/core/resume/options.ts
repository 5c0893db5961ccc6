import { HeartlineError, ServerErrorCode } from "../errors.js";
import { resumeDefaults } from "./defaults.js";
import type { ResolvedResumeOptions } from "./resolved-options.js";
import { sameClientDefault } from "./same-client.js";
import type { SessionStore } from "./store-api.js";

/** The server's `resume` option: resumable sessions (PROTOCOL.md, "Resumable sessions"). */
export interface ResumeOptions<TAuth = unknown> {
  /** How long a dropped session stays resumable. Default 120,000. */
  windowMs?: number;
  /** Server → client messages held unacknowledged per session; past it: overflow. Default 1,000. */
  maxUnackedMessages?: number;
  /** Bytes of those per session; past it: overflow. Default 1 MiB. */
  maxUnackedBytes?: number;
  /** Bytes held unacknowledged across all sessions; past it the session that pushes overflows. Default 64 MiB. */
  maxUnackedBytesTotal?: number;
  /**
   * Resumable sessions held at once. At the bound a session waiting for its
   * client gives way (reported `evicted`) by the eviction rule: unauthenticated
   * before authenticated, then one that never exchanged a message, then the
   * oldest waiter; with none waiting, new connections are plain v1. Default 100,000.
   */
  maxSessions?: number;
  /** Sessions waiting for their client from one address; past it that address's oldest waiter is evicted. Default 1,000. */
  maxWaitingPerAddress?: number;
  /** Sessions waiting for their client per `clientOf` key; past it that client's oldest waiter is evicted. Default 100. */
  maxWaitingPerClient?: number;
  /** Names the client an `auth` belongs to (e.g. `(auth) => auth.userId`), for `maxWaitingPerClient`. Default none: no per-client bound. */
  clientOf?: (auth: TAuth) => string | undefined;
  /**
   * Whether the client resuming (its `authenticate` result) is the session's.
   * Default `sameClientDefault`: the same value, or equal plain data.
   */
  sameClient?: (sessionAuth: TAuth, newAuth: TAuth) => boolean;
  /**
   * Where sessions are kept. Default: a new `createMemorySessionStore()`
   * (this process's memory; sessions end with it). A shared store
   * (`@heartline/redis`'s `createRedisSessionStore`) lets a session outlive
   * the process and resume on another. One store serves one server.
   */
  // biome-ignore lint/suspicious/noExplicitAny: a store of any message type
  store?: SessionStore<any, TAuth>;
}

export type { ResolvedResumeOptions } from "./resolved-options.js";

function check(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      `resume.${name} must be a positive ${integer ? "integer" : "number"}`,
    );
  }
  return value;
}

/** Undefined when resumption is off (`undefined` or `false`). */
export function resolveResumeOptions<TAuth>(
  resume: false | ResumeOptions<TAuth> | undefined,
): ResolvedResumeOptions | undefined {
  if (resume === undefined || resume === false) return undefined;
  if (typeof resume !== "object" || resume === null) {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "resume must be false or an object");
  }
  const sameClient = resume.sameClient ?? sameClientDefault;
  if (typeof sameClient !== "function") {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "resume.sameClient must be a function");
  }
  if (resume.clientOf !== undefined && typeof resume.clientOf !== "function") {
    throw new HeartlineError(ServerErrorCode.InvalidOption, "resume.clientOf must be a function");
  }
  return Object.freeze({
    windowMs: check("windowMs", resume.windowMs ?? resumeDefaults.windowMs, false),
    maxUnackedMessages: check(
      "maxUnackedMessages",
      resume.maxUnackedMessages ?? resumeDefaults.maxUnackedMessages,
      true,
    ),
    maxUnackedBytes: check(
      "maxUnackedBytes",
      resume.maxUnackedBytes ?? resumeDefaults.maxUnackedBytes,
      false,
    ),
    maxUnackedBytesTotal: check(
      "maxUnackedBytesTotal",
      resume.maxUnackedBytesTotal ?? resumeDefaults.maxUnackedBytesTotal,
      false,
    ),
    maxSessions: check("maxSessions", resume.maxSessions ?? resumeDefaults.maxSessions, true),
    maxWaitingPerAddress: check(
      "maxWaitingPerAddress",
      resume.maxWaitingPerAddress ?? resumeDefaults.maxWaitingPerAddress,
      true,
    ),
    maxWaitingPerClient: check(
      "maxWaitingPerClient",
      resume.maxWaitingPerClient ?? resumeDefaults.maxWaitingPerClient,
      true,
    ),
    clientOf: resume.clientOf as ((auth: unknown) => string | undefined) | undefined,
    sameClient: sameClient as (a: unknown, b: unknown) => boolean,
  });
}

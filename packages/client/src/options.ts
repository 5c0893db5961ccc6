import type { Clock, HeartlineProtocol } from "@heartline/protocol";
import type { Backoff } from "./backoff.js";
import type { ClientDisconnectReason, ClientEvents } from "./types.js";
import type { WebSocketConstructor } from "./websocket.js";

/**
 * The defaults of every numeric option. `Infinity` means "no limit" where an
 * option says so; 0 always means 0 (defaults are applied with `??`).
 */
export const clientDefaults = Object.freeze({
  /** Time from opening a socket until the server's `welcome`; then the attempt counts as failed. `Infinity`: wait forever. */
  connectTimeoutMs: 15_000,
  reconnect: Object.freeze({
    /** First backoff ceiling: attempt n waits uniformly in [0, min(capMs, baseMs · 2^n)). */
    baseMs: 500,
    /** The largest backoff ceiling. */
    capMs: 30_000,
    /** Reconnect attempts in a row before giving up (state `closed`). 0: never reconnect; `Infinity`: never give up. */
    maxAttempts: Number.POSITIVE_INFINITY,
    /** A connection must stay open this long after `welcome` before the attempt counter resets to 0. */
    stableAfterMs: 10_000,
  }),
  outbox: Object.freeze({
    /**
     * Messages the client holds that the server has not acknowledged: queued
     * while not open, plus, on a resumable session, those sent and not yet
     * acknowledged (the server's bound of the same name is `resume.maxUnackedMessages`).
     * When full, `send` refuses the new message (returns false, `error`
     * outbox_overflow). 0: hold nothing.
     */
    maxUnackedMessages: 100,
    /** @deprecated `maxUnackedMessages`. */
    maxMessages: 100,
  }),
  /** Offer to resume sessions (the server decides; a plain v1 server ignores the offer). */
  resume: true,
});

/** How the client retries; every field defaults to `clientDefaults.reconnect`. */
export interface ReconnectOptions {
  /** Replaces the default full-jitter schedule (then baseMs and capMs are unused). */
  backoff?: Backoff;
  baseMs?: number;
  capMs?: number;
  maxAttempts?: number;
  stableAfterMs?: number;
  /**
   * Replaces the built-in verdict on whether an end is worth another attempt
   * (graphql-ws's `shouldRetry`): given the end (`reason`, `code`, `status`),
   * true to retry (within `maxAttempts`, on the backoff or `Retry-After`).
   * Not asked after `close()` or for an attempt that could not open. The
   * built-in verdict: close codes per `shouldReconnect`; HTTP 5xx, 408 and
   * 429 yes, every other status no; 401/4401 once with fresh credentials.
   */
  shouldRetry?: (end: RetryQuestion) => boolean;
}

/** What `reconnect.shouldRetry` is asked about. */
export interface RetryQuestion {
  readonly reason: ClientDisconnectReason;
  /** The close code, when there was one. */
  readonly code?: number | undefined;
  /** The refused upgrade's HTTP status, where the runtime shows it. */
  readonly status?: number | undefined;
}

/** A value, or a function giving it (sync or async), called again for every attempt. */
export type PerAttempt<T> = T | (() => T | PromiseLike<T>);

/** `createClient`'s one options object; every default is in `clientDefaults`, applied with `??`. */
export interface ClientOptions<TClientData = unknown, TServerData = unknown> {
  /**
   * The server's WebSocket URL, e.g. `wss://example.com/ws`; or a function
   * giving it (sync or async), called for every attempt.
   */
  url: PerAttempt<string>;
  /**
   * Credentials (a bearer token) offered as the subprotocol
   * `heartline.auth.<credentials>` beside `heartline.v1`; the server reads
   * them with `credentialsOf(request)`. A function (sync or async) is called
   * for every attempt, resumes included, so a token can be fresh each time;
   * after a 401/4401 it is called once more, and a second refusal stops the
   * client (`unauthorized`). Allowed characters: `CREDENTIALS_PATTERN`
   * (base64url and JWTs pass; standard base64's `/` and `=` do not).
   */
  credentials?: PerAttempt<string>;
  /** `data` of inbound messages is validated against `protocol.server`, outbound against `protocol.client`. */
  protocol?: HeartlineProtocol<TClientData, TServerData>;
  /** The WebSocket constructor. Default: the browser's native one; `ws` (through isomorphic-ws) in Node. */
  WebSocket?: WebSocketConstructor;
  connectTimeoutMs?: number;
  /** `false` disables reconnecting. Default: on, with `clientDefaults.reconnect`. */
  reconnect?: false | ReconnectOptions;
  outbox?: {
    maxUnackedMessages?: number;
    /** @deprecated `maxUnackedMessages` (used when that is not given). */
    maxMessages?: number;
  };
  /**
   * Offer resumable sessions (default true): a connection that drops comes
   * back to the same session, and messages in flight either way are
   * delivered once, in order, or reported (`undelivered`). `false`: plain v1.
   */
  resume?: boolean;
  /** Where every timer comes from. Default: `systemClock`. */
  clock?: Clock;
  /** Uniform in [0, 1); used for backoff jitter and the goodbye window. Default: `Math.random`. */
  random?: () => number;
  /** Listeners registered before anything can happen. */
  on?: {
    [K in keyof ClientEvents<TServerData, TClientData>]?: (
      payload: ClientEvents<TServerData, TClientData>[K],
    ) => void;
  };
}

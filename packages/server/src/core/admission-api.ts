// The admission seam's types (what adapters hand `admit` and get back, and
// the admission options), apart from the pipeline so the options module can
// name them without importing the pipeline (no import cycle).
import type { TrustProxy } from "./forwarded.js";
import type { ResumeOffer } from "./resume/resume-api.js";
import type { UpgradeRejectReason } from "./upgrade-rejection.js";

/** Request headers as `node:http` gives them (lower-case names), structurally: any runtime's fit. */
export interface UpgradeHeaders {
  readonly [name: string]: string | readonly string[] | undefined;
}

/** The upgrade request as the core sees it; `node:http`'s `IncomingMessage` fits. */
export interface UpgradeRequest {
  readonly headers: UpgradeHeaders;
  /** The request target: path and query (`/ws?token=…`). */
  readonly url?: string | undefined;
}

/** What an adapter hands `admit`: the parts of the upgrade the checks read, and its own request object. */
export interface AdmissionRequest<TRequest = UpgradeRequest> extends UpgradeRequest {
  readonly remoteAddress: string | undefined;
  /** What `authenticate` is called with: the adapter's own request (`IncomingMessage` for `ws`). */
  readonly raw: TRequest;
  /**
   * Aborts when the client gives up (its socket is gone). While an
   * asynchronous check runs, an abort ends the admission at once
   * (`abandoned`: neither accepted nor reported, since nobody is left to
   * answer) and aborts the signal `authenticate` was given.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * @deprecated `signal`. True once the client gave up; read only after an
   * asynchronous check settles.
   */
  readonly abandoned?: () => boolean;
  /**
   * Who the client is when the server has no `authenticate` hook and the
   * adapter knows (the testing harness's `auth`): the auth the resumable
   * session is opened with at admission. `authenticate`'s answer replaces it.
   */
  readonly auth?: unknown;
}

/** What `authenticate` gets beside the request. */
export interface AuthenticateContext {
  /**
   * Aborts when the hook's time is up (`authenticateTimeoutMs`; the reason
   * is an `authenticate_timeout` error) or the client leaves: stop the work
   * then (pass it to `fetch`, a database query…). Whatever the hook settles
   * to after an abort is ignored.
   */
  readonly signal: AbortSignal;
}

/** The refusal an adapter answers over HTTP (the core has already reported it). */
export interface Refusal {
  readonly kind: "refused";
  readonly status: number;
  readonly reason: UpgradeRejectReason;
  /** Seconds for a `Retry-After` header (capacity refusals: 503, 429). */
  readonly retryAfterSeconds?: number;
}

/** `admit`'s verdict. */
export type Admission<TAuth> =
  | {
      readonly kind: "accepted";
      /** What `authenticate` resolved to (undefined without the hook). */
      readonly auth: TAuth;
      /** The subprotocol to answer with: `heartline.v1`, or "" when the client offered none. */
      readonly protocol: string;
      /**
       * The client's resume offer, when resumption is on and it made one,
       * with the session the store opened for it: pass it on to `accept`
       * (`ConnectionInfo.resume`) as it is, or to `abandon` if the upgrade
       * never gets there (the client left).
       */
      readonly resume: ResumeOffer | undefined;
      /**
       * The client's address as capacity counted it (`addressOf`, or the
       * socket's): hand it to `accept` as `remoteAddress`.
       */
      readonly remoteAddress: string | undefined;
    }
  | Refusal
  | { readonly kind: "abandoned" };

/**
 * What `authenticate` may return: an accepted client's `TAuth` (never
 * `false`, `null` or `undefined`, which is how `conn.auth` can be typed
 * without them), or one of those three to refuse (401).
 */
export type AuthenticateResult<TAuth> = TAuth | false | null | undefined;

/** The admission options of the core (the `ws` adapter takes the same names). */
export interface AdmissionOptions<TAuth, TRequest> {
  /** The only path upgrades are accepted on (404 elsewhere). Default "/ws". */
  path?: string;
  /**
   * Origins allowed to connect (403 otherwise); an absent `Origin` always
   * passes. Default: the same origin only (the `Origin`'s host and port equal
   * the `Host` header's). `"*"` lets every origin pass.
   */
  allowedOrigins?: readonly string[] | "*";
  /** Connections held at once (open or closing, or waiting on `authenticate`); past it 503 with `Retry-After`. Default Infinity (off). */
  maxConnections?: number;
  /** Connections one address may hold; past it 429 with `Retry-After`. Default Infinity (off). */
  maxConnectionsPerAddress?: number;
  /**
   * The reverse proxies in front of the server (README, "Behind a reverse
   * proxy"): a hop count (`1` for one nginx), the proxies' addresses, or
   * `{ hops | addresses, header }`. From a trusted peer, the client's address
   * is read from `X-Forwarded-For` (or `Forwarded`) counted from the right,
   * and the origin check compares the forwarded Host and scheme; from any
   * other peer those headers are ignored. Default `false`: none is read.
   */
  trustProxy?: TrustProxy;
  /**
   * Names the client's address (for `maxConnectionsPerAddress` and every
   * report) from the adapter's request, for a source `trustProxy` does not
   * read. Never a raw request header: a client can write any header. Not
   * together with `trustProxy`. Default: the socket's address.
   */
  addressOf?: (request: TRequest) => string | undefined;
  /** How long `authenticate` may take; past it the upgrade is refused 401 (`authenticate_timeout`). Infinity disables. Default 10,000. */
  authenticateTimeoutMs?: number;
  /**
   * Decides whether an upgrade may proceed. Resolve to what identifies the
   * client (an object, a user id: any value but the three below) to accept;
   * it is attached as `conn.auth`. `false`, `null` or `undefined` refuse
   * (401), so a hook that forgets a `return` or passes a failed lookup's
   * `undefined` through refuses instead of letting everyone in. A throw or
   * rejection is a refusal too, and is reported on the `error` event.
   * `context.signal` aborts when its time is up or the client leaves.
   */
  authenticate?: (
    request: TRequest,
    context: AuthenticateContext,
  ) => AuthenticateResult<TAuth> | Promise<AuthenticateResult<TAuth>>;
  /** Resumable sessions: `false`/absent is off (offers ignored). Only its presence matters to admission. */
  resume?: false | object | undefined;
}

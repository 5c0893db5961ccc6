import {
  type Clock,
  parseSubprotocolOffer,
  SUBPROTOCOL,
  type SubprotocolOffer,
  type TimerHandle,
} from "@heartline/protocol";
import type {
  Admission,
  AdmissionOptions,
  AdmissionRequest,
  Refusal,
  UpgradeRequest,
} from "./admission-api.js";
import type { CapacityLedger } from "./capacity.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import { type ForwardedView, forwardedReader } from "./forwarded.js";
import type { RejectedRequest } from "./listeners.js";
import type { ResolvedCoreOptions } from "./options.js";
import type { ResumeOffer } from "./resume/resume-api.js";
import { type UpgradeRejection, UpgradeRejectReason } from "./upgrade-rejection.js";

export type {
  Admission,
  AdmissionOptions,
  AdmissionRequest,
  AuthenticateContext,
  AuthenticateResult,
  Refusal,
  UpgradeHeaders,
  UpgradeRequest,
} from "./admission-api.js";

/** What admission needs from the core. */
export interface AdmissionHost {
  /** False once the server began closing. */
  readonly accepting: boolean;
  readonly capacity: CapacityLedger;
  reportRejected(rejection: UpgradeRejection, request?: RejectedRequest): void;
  reportError(error: HeartlineError): void;
  /**
   * The last step with resumption on: the session store opens the session
   * for the offer (synchronously with the in-process store); "unavailable"
   * is a 503. Absent: the offer is only read (`accept` opens it).
   */
  openSession?(
    token: string | undefined,
    auth: unknown,
    address: string | undefined,
  ): ResumeOffer | "unavailable" | Promise<ResumeOffer | "unavailable">;
  /** The session opened for an upgrade that is refused or abandoned after all goes back. */
  releaseSession?(offer: ResumeOffer | undefined): void;
}

/** One upgrade on its way through the checks; a check may fill in `auth` or `protocol`. */
interface PendingAdmission<TAuth> {
  readonly request: AdmissionRequest<unknown>;
  /** The client's address as named by `addressOf` or `trustProxy` (or the socket's). */
  readonly address: string | undefined;
  /** Host and scheme as the origin check reads them (forwarded by a trusted proxy, or the request's). */
  readonly view: ForwardedView;
  auth: TAuth;
  protocol: string;
  /** What `Sec-WebSocket-Protocol` offered (set by the subprotocol check). */
  offer: SubprotocolOffer | undefined;
  resume: ResumeOffer | undefined;
  /** It holds a place in the capacity ledger (given back when the admission ends). */
  holdsPlace: boolean;
}

/** One step of the pipeline: a refusal, or undefined to pass on to the next. */
type AdmissionCheck<TAuth> = (
  pending: PendingAdmission<TAuth>,
) => Refusal | undefined | Promise<Refusal | "abandoned" | undefined>;

function refusal(status: number, reason: UpgradeRejectReason, retryAfterSeconds?: number): Refusal {
  return Object.freeze(
    retryAfterSeconds === undefined
      ? { kind: "refused", status, reason }
      : { kind: "refused", status, reason, retryAfterSeconds },
  );
}

const NOT_FOUND = refusal(404, UpgradeRejectReason.NotFound);
const ORIGIN_NOT_ALLOWED = refusal(403, UpgradeRejectReason.OriginNotAllowed);
const UNSUPPORTED_SUBPROTOCOL = refusal(400, UpgradeRejectReason.UnsupportedSubprotocol);
const UNAUTHORIZED = refusal(401, UpgradeRejectReason.Unauthorized);
const AUTHENTICATE_TIMEOUT = refusal(401, UpgradeRejectReason.AuthenticateTimeout);
const ABANDONED = Object.freeze({ kind: "abandoned" as const });

/** The path part of a request URL (no query). */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * An origin in its serialized form (`scheme://host[:port]`, default port
 * dropped, no trailing slash), lower-cased so comparison is case-insensitive.
 * Values that are not URLs (such as `null`) are only lower-cased.
 */
export function serializeOrigin(origin: string): string {
  const trimmed = origin.trim();
  try {
    const serialized = new URL(trimmed).origin;
    // Opaque origins serialize as "null"; keep what was written then.
    if (serialized !== "null") return serialized.toLowerCase();
  } catch {
    // not a URL: compared as written
  }
  return trimmed.replace(/\/+$/, "").toLowerCase();
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };

/**
 * The same-origin rule of the contract: the `Origin`'s host and port equal
 * the `Host` header's, case-insensitively. A missing port is the default of
 * the `Origin`'s scheme (80 for http, 443 for https) on both sides (the
 * `Host` header names no scheme of its own). An opaque or unparsable origin
 * (`null`), or a missing `Host`, is not the same origin. `proto` (`http` or
 * `https`, from a trusted proxy) must then be the `Origin`'s scheme as well.
 */
export function isSameOrigin(
  origin: string,
  host: string | undefined,
  proto?: string | undefined,
): boolean {
  if (host === undefined || host === "") return false;
  let from: URL;
  let to: URL;
  try {
    from = new URL(origin.trim());
    if (from.host === "") return false;
    // A trusted proxy named the scheme the client used: the page's must be it.
    if (proto !== undefined && from.protocol !== `${proto}:`) return false;
    // The Host header read under the Origin's scheme: URL lower-cases it and drops that scheme's default port.
    to = new URL(`${from.protocol}//${host.trim()}`);
  } catch {
    return false;
  }
  if (to.pathname !== "/" || to.username !== "" || to.search !== "" || to.hash !== "") return false;
  const defaultPort = DEFAULT_PORTS[from.protocol] ?? "";
  return from.hostname === to.hostname && (from.port || defaultPort) === (to.port || defaultPort);
}

/**
 * A predicate for the `Origin` check. `undefined` (the default): the same
 * origin only; `"*"`: every origin passes. No `Origin` header always passes:
 * not a browser, and Origin is not authentication.
 */
export function originChecker(
  allowedOrigins: readonly string[] | "*" | undefined,
): (origin: string | undefined, host: string | undefined, proto?: string) => boolean {
  if (allowedOrigins === "*") return () => true;
  if (allowedOrigins === undefined) {
    return (origin, host, proto) => origin === undefined || isSameOrigin(origin, host, proto);
  }
  if (allowedOrigins.includes("*")) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      'allowedOrigins: write "*" (not ["*"]) to let every origin pass',
    );
  }
  const allowed = new Set(allowedOrigins.map(serializeOrigin));
  return (origin) => origin === undefined || allowed.has(serializeOrigin(origin));
}

/**
 * The subprotocol to answer an offer with: `heartline.v1` if offered among
 * others, "" when none was offered (a plain `new WebSocket(url)`), undefined
 * when only others were (400).
 */
export function selectSubprotocol(offer: SubprotocolOffer): string | undefined {
  if (offer.v1) return SUBPROTOCOL;
  return offer.acceptable ? "" : undefined;
}

/** The offer for a fresh resumable session (`heartline.resume`), shared. */
const NEW_SESSION: ResumeOffer = Object.freeze({ token: undefined });

function joined(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" || value === undefined ? value : value.join(",");
}

function header(request: UpgradeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" || value === undefined ? value : value[0];
}

/**
 * The pipeline, in the contract's order (PROTOCOL.md, "Upgrade"): closing
 * 503, path 404, origin 403, subprotocol 400, capacity 503/429, authenticate
 * 401 (refused at `authenticateTimeoutMs` too), then the resume offer. Capacity
 * runs before `authenticate` and the offer is read last, so a resume refused
 * by any check has not spent its token.
 */
function admissionChecks<TAuth, TRequest>(
  options: AdmissionOptions<TAuth, TRequest>,
  host: AdmissionHost,
  resolved: ResolvedCoreOptions,
): AdmissionCheck<TAuth>[] {
  const originAllowed = originChecker(options.allowedOrigins);
  const { path } = resolved;
  const serverFull = refusal(503, UpgradeRejectReason.ServerFull, resolved.retryAfterSeconds);
  const addressFull = refusal(429, UpgradeRejectReason.AddressLimit, resolved.retryAfterSeconds);
  // Retry-After: by then a drained server is gone and its clients have come back elsewhere.
  const serverClosing = refusal(503, UpgradeRejectReason.ServerClosing, resolved.retryAfterSeconds);
  const checks: AdmissionCheck<TAuth>[] = [
    () => (host.accepting ? undefined : serverClosing),
    ({ request }) => (pathOf(request.url) === path ? undefined : NOT_FOUND),
    ({ request, view }) =>
      originAllowed(header(request, "origin"), view.host, view.proto)
        ? undefined
        : ORIGIN_NOT_ALLOWED,
    (pending) => {
      // Read once: the resume check below uses the same parse.
      const offer = parseSubprotocolOffer(
        joined(pending.request.headers["sec-websocket-protocol"]),
      );
      const protocol = selectSubprotocol(offer);
      if (protocol === undefined) return UNSUPPORTED_SUBPROTOCOL;
      pending.protocol = protocol;
      pending.offer = offer;
      return undefined;
    },
    (pending) => {
      const full = host.capacity.full(pending.address);
      if (full !== undefined) return full === "total" ? serverFull : addressFull;
      host.capacity.take(pending.address);
      pending.holdsPlace = true;
      return undefined;
    },
  ];
  const authenticate = options.authenticate;
  if (authenticate !== undefined) {
    checks.push(
      boundedAuthenticate(authenticate, host, resolved.clock, resolved.authenticateTimeoutMs),
    );
  }
  if (options.resume !== undefined && options.resume !== false) {
    // Last, after every check that can refuse (capacity and authenticate
    // included): a refused upgrade has not spent its token. The store opens
    // the session here (checks the token, resumes or creates), so a store it
    // cannot reach answers 503 before the 101, the token untouched; the
    // in-process store answers at once, so admission stays synchronous.
    const storeUnavailable = refusal(
      503,
      UpgradeRejectReason.StoreUnavailable,
      resolved.retryAfterSeconds,
    );
    const settle = (
      pending: PendingAdmission<TAuth>,
      verdict: ResumeOffer | "unavailable",
    ): Refusal | undefined => {
      if (verdict === "unavailable") return storeUnavailable;
      pending.resume = verdict;
      return undefined;
    };
    checks.push((pending) => {
      const offer = pending.offer!;
      if (!offer.resume) return undefined;
      const open = host.openSession;
      if (open === undefined) {
        pending.resume = offer.token === undefined ? NEW_SESSION : { token: offer.token };
        return undefined;
      }
      const verdict = open.call(host, offer.token, pending.auth, pending.address);
      return verdict instanceof Promise
        ? verdict.then((v) => settle(pending, v))
        : settle(pending, verdict);
    });
  }
  return checks;
}

/**
 * `authenticate`, bounded: always asynchronous (awaited even when the hook
 * returns a plain value); a throw or rejection is a 401 reported on `error`;
 * still pending at `timeoutMs` is a 401 of its own (`authenticate_timeout`);
 * a client that leaves meanwhile ends the admission at once (`abandoned`).
 * Either way the hook's `signal` aborts, and whatever it settles to later
 * is ignored. One timer and one AbortController per upgrade, none per message.
 */
function boundedAuthenticate<TAuth, TRequest>(
  authenticate: NonNullable<AdmissionOptions<TAuth, TRequest>["authenticate"]>,
  host: AdmissionHost,
  clock: Clock,
  timeoutMs: number,
): AdmissionCheck<TAuth> {
  return (pending) =>
    new Promise<Refusal | "abandoned" | undefined>((resolve) => {
      const controller = new AbortController();
      const left = pending.request.signal;
      let timer: TimerHandle | undefined;
      let finished = false;
      /** The one way this check ends: stop the timer and the client's watch, answer once. */
      const finish = (verdict: Refusal | "abandoned" | undefined, abort?: unknown): void => {
        if (finished) return;
        finished = true;
        if (timer !== undefined) clock.clearTimeout(timer);
        left?.removeEventListener("abort", onLeft);
        if (abort !== undefined) controller.abort(abort);
        resolve(verdict);
      };
      const onLeft = (): void => finish("abandoned", left!.reason);
      if (left?.aborted === true) {
        finish("abandoned", left.reason);
        return;
      }
      left?.addEventListener("abort", onLeft);
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        timer = clock.setTimeout(() => {
          timer = undefined;
          finish(
            AUTHENTICATE_TIMEOUT,
            new HeartlineError(
              ServerErrorCode.AuthenticateTimeout,
              `authenticate took longer than ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
      }
      const settle = (result: TAuth | false | null | undefined): void => {
        if (finished) return;
        // Only a value accepts: `undefined` is what a hook that forgot to answer returns.
        if (result === false || result === null || result === undefined) {
          finish(UNAUTHORIZED);
          return;
        }
        pending.auth = result;
        finish(undefined);
      };
      const threw = (cause: unknown): void => {
        if (finished) return;
        host.reportError(
          new HeartlineError(ServerErrorCode.AuthenticateThrew, "authenticate threw", { cause }),
        );
        finish(UNAUTHORIZED);
      };
      try {
        const context = { signal: controller.signal };
        Promise.resolve(authenticate(pending.request.raw as TRequest, context)).then(settle, threw);
      } catch (cause) {
        // A synchronous throw: still answered asynchronously, as a rejection would be.
        Promise.resolve().then(() => threw(cause));
      }
    });
}

/**
 * The one admission function every adapter calls. Synchronous unless a check
 * is asynchronous (`authenticate`); reports each refusal on
 * `upgradeRejected` itself, once, before returning it.
 */
export function createAdmission<TAuth, TRequest>(
  options: AdmissionOptions<TAuth, TRequest>,
  host: AdmissionHost,
  resolved: ResolvedCoreOptions,
): (request: AdmissionRequest<TRequest>) => Admission<TAuth> | Promise<Admission<TAuth>> {
  const checks = admissionChecks(options, host, resolved);
  const stillOpen = checks[0]!;
  const addressOf = options.addressOf;
  if (addressOf !== undefined && options.trustProxy !== undefined && options.trustProxy !== false) {
    throw new HeartlineError(
      ServerErrorCode.InvalidOption,
      "give addressOf or trustProxy, not both (trustProxy names the address itself)",
    );
  }
  const readForwarded = forwardedReader(options.trustProxy);

  const refuse = (pending: PendingAdmission<TAuth>, verdict: Refusal): Refusal => {
    done(pending);
    host.reportRejected(
      {
        status: verdict.status,
        reason: verdict.reason,
        remoteAddress: pending.address,
      },
      pending.request,
    );
    return verdict;
  };

  // The admission is over: its place in the ledger goes back (an accepted connection takes its own in `accept`).
  const done = (pending: PendingAdmission<TAuth>): void => {
    if (pending.holdsPlace) {
      pending.holdsPlace = false;
      host.capacity.release(pending.address);
    }
  };

  const run = (
    pending: PendingAdmission<TAuth>,
    from: number,
  ): Admission<TAuth> | Promise<Admission<TAuth>> => {
    for (let i = from; i < checks.length; i++) {
      const verdict = checks[i]!(pending);
      if (verdict === undefined) continue;
      if (verdict instanceof Promise) return verdict.then((v) => resume(pending, v, i + 1));
      return refuse(pending, verdict);
    }
    done(pending);
    return {
      kind: "accepted",
      auth: pending.auth,
      protocol: pending.protocol,
      resume: pending.resume,
      remoteAddress: pending.address,
    };
  };

  // After an asynchronous check: the client may have given up, or the server begun closing, meanwhile.
  const resume = (
    pending: PendingAdmission<TAuth>,
    verdict: Refusal | "abandoned" | undefined,
    next: number,
  ): Admission<TAuth> | Promise<Admission<TAuth>> => {
    const { signal, abandoned } = pending.request;
    if (verdict === "abandoned" || signal?.aborted === true || abandoned?.() === true) {
      // The client left while the store opened its session: it goes back.
      host.releaseSession?.(pending.resume);
      done(pending);
      return ABANDONED;
    }
    const refused = verdict ?? (stillOpen(pending) as Refusal | undefined);
    if (refused !== undefined) {
      host.releaseSession?.(pending.resume);
      return refuse(pending, refused);
    }
    return run(pending, next);
  };

  const nameAddress = (
    request: AdmissionRequest<TRequest>,
    view: ForwardedView,
  ): string | undefined => {
    if (addressOf === undefined) return view.address;
    try {
      return addressOf(request.raw) ?? request.remoteAddress;
    } catch (cause) {
      host.reportError(
        new HeartlineError(ServerErrorCode.AddressOfThrew, "addressOf threw", { cause }),
      );
      return request.remoteAddress;
    }
  };

  return (request) => {
    const view = readForwarded(request.headers, request.remoteAddress);
    return run(
      {
        request,
        view,
        address: nameAddress(request, view),
        auth: request.auth as TAuth,
        protocol: "",
        offer: undefined,
        resume: undefined,
        holdsPlace: false,
      },
      0,
    );
  };
}

import { parseSubprotocolOffer, SUBPROTOCOL } from "@heartline/protocol";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import type { ResumeOffer } from "./resume/resume-api.js";
import { type UpgradeRejection, UpgradeRejectReason } from "./upgrade-rejection.js";

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
   * True once the client gave up (its socket is gone). Read after each
   * asynchronous check: an abandoned upgrade is neither accepted nor
   * reported, since nobody is left to answer.
   */
  readonly abandoned?: () => boolean;
}

/** The refusal an adapter answers over HTTP (the core has already reported it). */
export interface Refusal {
  readonly kind: "refused";
  readonly status: number;
  readonly reason: UpgradeRejectReason;
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
       * The client's resume offer, when resumption is on and it made one;
       * pass it on to `accept` (`ConnectionInfo.resume`). Nothing is spent
       * yet: the token is checked and spent by `accept`.
       */
      readonly resume: ResumeOffer | undefined;
    }
  | Refusal
  | { readonly kind: "abandoned" };

/** The admission options of the core (the `ws` adapter takes the same names). */
export interface AdmissionOptions<TAuth, TRequest> {
  /** The only path upgrades are accepted on (404 elsewhere). Default "/ws". */
  path?: string;
  /** Origins allowed to connect (403 otherwise); absent `Origin` always passes. Default: all. */
  allowedOrigins?: readonly string[];
  /**
   * Decides whether an upgrade may proceed. Resolve to `false` to refuse
   * (401); any other value is accepted and attached as `conn.auth`. A throw
   * or rejection is a refusal too, and is reported on the `error` event.
   */
  authenticate?: (request: TRequest) => TAuth | false | Promise<TAuth | false>;
  /** Resumable sessions: `false`/absent is off (offers ignored). Only its presence matters to admission. */
  resume?: false | object | undefined;
}

/** What admission needs from the core. */
export interface AdmissionHost {
  /** False once the server began closing. */
  readonly accepting: boolean;
  reportRejected(rejection: UpgradeRejection): void;
  reportError(error: HeartlineError): void;
}

/** One upgrade on its way through the checks; a check may fill in `auth` or `protocol`. */
interface PendingAdmission<TAuth> {
  readonly request: AdmissionRequest<unknown>;
  auth: TAuth;
  protocol: string;
  resume: ResumeOffer | undefined;
}

/** One step of the pipeline: a refusal, or undefined to pass on to the next. */
type AdmissionCheck<TAuth> = (
  pending: PendingAdmission<TAuth>,
) => Refusal | undefined | Promise<Refusal | undefined>;

function refusal(status: number, reason: UpgradeRejectReason): Refusal {
  return Object.freeze({ kind: "refused", status, reason });
}

const SERVER_CLOSING = refusal(503, UpgradeRejectReason.ServerClosing);
const NOT_FOUND = refusal(404, UpgradeRejectReason.NotFound);
const ORIGIN_NOT_ALLOWED = refusal(403, UpgradeRejectReason.OriginNotAllowed);
const UNSUPPORTED_SUBPROTOCOL = refusal(400, UpgradeRejectReason.UnsupportedSubprotocol);
const UNAUTHORIZED = refusal(401, UpgradeRejectReason.Unauthorized);
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

/** A predicate for the `Origin` check; `undefined` list = every origin passes. */
export function originChecker(
  allowedOrigins: readonly string[] | undefined,
): (origin: string | undefined) => boolean {
  if (allowedOrigins === undefined) return () => true;
  const allowed = new Set(allowedOrigins.map(serializeOrigin));
  // No Origin header: not a browser, and Origin is not authentication.
  return (origin) => origin === undefined || allowed.has(serializeOrigin(origin));
}

/** The subprotocols a `Sec-WebSocket-Protocol` header offers, trimmed, empty ones dropped. */
export function offeredSubprotocols(header: string | readonly string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = typeof header === "string" ? header : header.join(",");
  const offers: string[] = [];
  for (const offer of joined.split(",")) {
    const trimmed = offer.trim();
    if (trimmed !== "") offers.push(trimmed);
  }
  return offers;
}

/**
 * The subprotocol to answer with: `heartline.v1` if offered among others, ""
 * when none was offered (a plain `new WebSocket(url)`), undefined when only
 * others were (400).
 */
export function selectSubprotocol(offered: Iterable<string>): string | undefined {
  let any = false;
  for (const offer of offered) {
    if (offer === SUBPROTOCOL) return SUBPROTOCOL;
    any = true;
  }
  return any ? undefined : "";
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
 * 503, path 404, origin 403, subprotocol 400, authenticate 401. Later checks
 * slot in here (a capacity check goes between subprotocol and authenticate).
 */
function admissionChecks<TAuth, TRequest>(
  options: AdmissionOptions<TAuth, TRequest>,
  host: AdmissionHost,
  path: string,
): AdmissionCheck<TAuth>[] {
  const originAllowed = originChecker(options.allowedOrigins);
  const checks: AdmissionCheck<TAuth>[] = [
    serverOpen(host),
    ({ request }) => (pathOf(request.url) === path ? undefined : NOT_FOUND),
    ({ request }) => (originAllowed(header(request, "origin")) ? undefined : ORIGIN_NOT_ALLOWED),
    (pending) => {
      const protocol = selectSubprotocol(
        offeredSubprotocols(pending.request.headers["sec-websocket-protocol"]),
      );
      if (protocol === undefined) return UNSUPPORTED_SUBPROTOCOL;
      pending.protocol = protocol;
      return undefined;
    },
  ];
  const authenticate = options.authenticate;
  if (authenticate !== undefined) {
    // Always asynchronous (awaited even when the hook returns a plain value), as before.
    checks.push(async (pending) => {
      let result: TAuth | false;
      try {
        result = await authenticate(pending.request.raw as TRequest);
      } catch (cause) {
        host.reportError(
          new HeartlineError(ServerErrorCode.AuthenticateThrew, "authenticate threw", { cause }),
        );
        result = false;
      }
      if (result === false) return UNAUTHORIZED;
      pending.auth = result;
      return undefined;
    });
  }
  if (options.resume !== undefined && options.resume !== false) {
    // Last, after every check that can refuse: a refused resume has not
    // spent its token (it is only read here; `accept` checks and spends it).
    checks.push((pending) => {
      const offer = parseSubprotocolOffer(
        joined(pending.request.headers["sec-websocket-protocol"]),
      );
      if (offer.resume)
        pending.resume = offer.token === undefined ? NEW_SESSION : { token: offer.token };
      return undefined;
    });
  }
  return checks;
}

function serverOpen<TAuth>(host: AdmissionHost): AdmissionCheck<TAuth> {
  return () => (host.accepting ? undefined : SERVER_CLOSING);
}

/**
 * The one admission function every adapter calls. Synchronous unless a check
 * is asynchronous (`authenticate`); reports each refusal on
 * `upgradeRejected` itself, once, before returning it.
 */
export function createAdmission<TAuth, TRequest>(
  options: AdmissionOptions<TAuth, TRequest>,
  host: AdmissionHost,
  path: string,
): (request: AdmissionRequest<TRequest>) => Admission<TAuth> | Promise<Admission<TAuth>> {
  const checks = admissionChecks(options, host, path);
  const stillOpen = checks[0]!;

  const refuse = (request: AdmissionRequest<unknown>, verdict: Refusal): Refusal => {
    host.reportRejected({
      status: verdict.status,
      reason: verdict.reason,
      remoteAddress: request.remoteAddress,
    });
    return verdict;
  };

  const run = (
    pending: PendingAdmission<TAuth>,
    from: number,
  ): Admission<TAuth> | Promise<Admission<TAuth>> => {
    for (let i = from; i < checks.length; i++) {
      const verdict = checks[i]!(pending);
      if (verdict === undefined) continue;
      if (verdict instanceof Promise) return verdict.then((v) => resume(pending, v, i + 1));
      return refuse(pending.request, verdict);
    }
    return {
      kind: "accepted",
      auth: pending.auth,
      protocol: pending.protocol,
      resume: pending.resume,
    };
  };

  // After an asynchronous check: the client may have given up, or the server begun closing, meanwhile.
  const resume = (
    pending: PendingAdmission<TAuth>,
    verdict: Refusal | undefined,
    next: number,
  ): Admission<TAuth> | Promise<Admission<TAuth>> => {
    if (pending.request.abandoned?.() === true) return ABANDONED;
    const refused = verdict ?? (stillOpen(pending) as Refusal | undefined);
    if (refused !== undefined) return refuse(pending.request, refused);
    return run(pending, next);
  };

  return (request) =>
    run({ request, auth: undefined as TAuth, protocol: "", resume: undefined }, 0);
}

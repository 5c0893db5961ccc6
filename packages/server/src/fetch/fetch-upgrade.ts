// What the Bun and Deno adapters share: both get a WHATWG `Request` for the
// upgrade and answer a refusal with a `Response`. Runtime-neutral (no Node
// built-in): only the globals every fetch-style runtime has.
import type {
  Admission,
  AdmissionRequest,
  Refusal,
  UpgradeHeaders,
  UpgradeRequest,
} from "../core/admission-api.js";
import type { ServerCore } from "../core/server-core.js";
import type { ConnectionInfo } from "../core/transport.js";
import { UpgradeRejectReason } from "../core/upgrade-rejection.js";

/** The reason phrases of the statuses an upgrade is refused with (the body repeats them, as the `ws` adapter's does). */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/** Whether the request asks for a WebSocket at all (`Upgrade: websocket`); a plain request gets 426, unreported. */
export function asksForWebSocket(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** The request target, path and query, from a fetch `Request`'s absolute URL. */
export function targetOf(url: string): string {
  const scheme = url.indexOf("://");
  const slash = scheme === -1 ? -1 : url.indexOf("/", scheme + 3);
  return slash === -1 ? "/" : url.slice(slash);
}

/** The headers as `admit` reads them: lower-case names (fetch `Headers` iterate lower-cased). */
export function headersOf(request: Request): UpgradeHeaders {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** The request as the core's `connection` listener sees it (lower-case headers and the target, as on Node). */
export function upgradeRequestOf(request: Request): UpgradeRequest {
  return { headers: headersOf(request), url: targetOf(request.url) };
}

/** The `admit` input for a fetch upgrade: `raw` (what `authenticate` is given) is the `Request` itself. */
export function admissionRequestOf<TRequest extends Request>(
  request: TRequest,
  remoteAddress: string | undefined,
  abandoned?: () => boolean,
): AdmissionRequest<TRequest> {
  return {
    headers: headersOf(request),
    url: targetOf(request.url),
    remoteAddress,
    raw: request,
    ...(abandoned === undefined ? {} : { abandoned }),
  };
}

/** An HTTP refusal with a short body, `Retry-After` for the capacity refusals, as the `ws` adapter answers. */
export function refusalResponse(refusal: Pick<Refusal, "status" | "reason" | "retryAfterSeconds">) {
  const text = `${STATUS_TEXT[refusal.status] ?? "Error"}: ${refusal.reason}`;
  const headers: Record<string, string> = {
    connection: "close",
    "content-type": "text/plain; charset=utf-8",
  };
  if (refusal.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(refusal.retryAfterSeconds);
  }
  return new Response(text, { status: refusal.status, headers });
}

/** The runtime refused a handshake `admit` passed (a bad `Sec-WebSocket-Key` or version): 400. */
const INVALID_HANDSHAKE = Object.freeze({
  status: 400,
  reason: UpgradeRejectReason.InvalidHandshake,
});

type FetchCore<TAuth> = Pick<
  ServerCore<unknown, unknown, TAuth, Request>,
  "admit" | "reportRejected"
>;

/** Runs `admit`, then `then` with its verdict: in this same turn unless a check was asynchronous (`authenticate`). */
export function admitThen<TAuth, R>(
  core: FetchCore<TAuth>,
  request: AdmissionRequest<Request>,
  then: (admission: Admission<TAuth>) => R,
): R | Promise<R> {
  const admission = core.admit(request);
  return admission instanceof Promise ? admission.then(then) : then(admission);
}

/** What `accept` is given for an accepted fetch upgrade. */
export function connectionInfoOf<TAuth>(
  request: Request,
  admission: Extract<Admission<TAuth>, { kind: "accepted" }>,
): ConnectionInfo<TAuth> {
  return {
    remoteAddress: admission.remoteAddress,
    auth: admission.auth,
    // The `connection` listener's request: its headers and URL, as `ws` gives `IncomingMessage`.
    request: upgradeRequestOf(request),
    resume: admission.resume,
  };
}

/** The runtime refused the handshake itself (a bad key or version): reported and answered like the `ws` adapter's. */
export function invalidHandshake<TAuth>(
  core: FetchCore<TAuth>,
  remoteAddress: string | undefined,
): Response {
  core.reportRejected({ ...INVALID_HANDSHAKE, remoteAddress });
  return refusalResponse(INVALID_HANDSHAKE);
}

/** What a standalone server answers a plain HTTP request with (not reported: not an upgrade). */
export function upgradeRequired(): Response {
  return new Response("Upgrade Required", {
    status: 426,
    headers: { "content-type": "text/plain; charset=utf-8", upgrade: "websocket" },
  });
}

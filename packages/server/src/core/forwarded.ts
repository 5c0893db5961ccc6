// Trusting a reverse proxy (the `trustProxy` option): what the client's
// address, Host and scheme are once a proxy sits in front. Pure and
// transport-free: headers and the socket's address in, a view out. The
// origin check and the client address read the same view, so the two can
// never disagree about which proxy is believed.
//
// Forwarded headers are believed only from a trusted peer, and the address is
// read from the right (the entry the nearest trusted proxy appended), never
// the leftmost: anything to the left of what a trusted proxy appended was
// written by the client and is forgeable.
import type { UpgradeHeaders } from "./admission-api.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";

/** Which headers the proxy writes. */
export type ForwardedHeaders = "x-forwarded" | "forwarded";

/**
 * How far to trust proxies. `hops`: that many proxies stand in front of the
 * server (Express's `trust proxy` with a number). `addresses`: the proxies'
 * own addresses (exact IPs, IPv4 CIDR such as `10.0.0.0/8`, or `loopback`);
 * the chain is walked from the socket leftwards while each hop is one of them.
 */
export interface TrustProxyOptions {
  readonly hops?: number;
  readonly addresses?: readonly string[];
  /**
   * `x-forwarded` (default): `X-Forwarded-For`, `X-Forwarded-Host`,
   * `X-Forwarded-Proto`. `forwarded`: RFC 7239's `Forwarded`. Only the one
   * named is read: a proxy that sets one passes the other through from the
   * client unchanged, so reading both would believe a forgery.
   */
  readonly header?: ForwardedHeaders;
}

/** `false` (default): no proxy trusted. A number: `{ hops }`. An array: `{ addresses }`. */
export type TrustProxy = false | number | readonly string[] | TrustProxyOptions;

/** The request as the server should see it. */
export interface ForwardedView {
  /** The client's address: the socket's, or the first untrusted hop counted from the right. */
  readonly address: string | undefined;
  /** The Host the client asked for: the trusted proxy's forwarded host, else the `Host` header. */
  readonly host: string | undefined;
  /** `http` or `https` when a trusted proxy said so; undefined otherwise (unknown). */
  readonly proto: string | undefined;
}

/** Reads a request's view under one `trustProxy` setting. */
export type ForwardedReader = (
  headers: UpgradeHeaders,
  remoteAddress: string | undefined,
) => ForwardedView;

function invalid(message: string): never {
  throw new HeartlineError(ServerErrorCode.InvalidOption, `trustProxy: ${message}`);
}

/** An address as compared: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4, brackets and port dropped, lower-case. */
export function normalizeAddress(raw: string): string {
  let value = raw.trim().toLowerCase();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    value = end === -1 ? value.slice(1) : value.slice(1, end);
  } else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) {
    value = value.slice(0, value.indexOf(":"));
  }
  if (value.startsWith("::ffff:") && /^\d+\.\d+\.\d+\.\d+$/.test(value.slice(7))) {
    value = value.slice(7);
  }
  return value;
}

function ipv4(value: string): number | undefined {
  const parts = value.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    n = n * 256 + byte;
  }
  return n;
}

/** A predicate for one `addresses` entry. */
function addressMatcher(entry: string): (address: string) => boolean {
  const spec = entry.trim().toLowerCase();
  if (spec === "loopback") {
    return (address) => address === "::1" || address.startsWith("127.");
  }
  const slash = spec.indexOf("/");
  if (slash === -1) {
    const exact = normalizeAddress(spec);
    if (exact === "") invalid("an empty address");
    return (address) => address === exact;
  }
  const base = ipv4(spec.slice(0, slash));
  const bits = Number(spec.slice(slash + 1));
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    invalid(`${JSON.stringify(entry)} is not an IPv4 CIDR (a.b.c.d/n)`);
  }
  const size = 2 ** (32 - bits);
  const start = base - (base % size);
  return (address) => {
    const n = ipv4(address);
    return n !== undefined && n >= start && n < start + size;
  };
}

/** The header's values joined as one comma-separated list (node:http joins most repeats, not all). */
function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = typeof value === "string" ? value : value.join(",");
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= joined.length; i++) {
    const c = joined[i];
    if (c === '"') quoted = !quoted;
    else if ((c === "," && !quoted) || i === joined.length) {
      const item = joined.slice(start, i).trim();
      if (item !== "") items.push(item);
      start = i + 1;
    }
  }
  return items;
}

function single(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" || value === undefined ? value : value[0];
}

/** One RFC 7239 element (`for=…;host=…;proto=…`) as lower-cased keys and unquoted values. */
function forwardedElement(element: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const pair of element.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    pairs[pair.slice(0, eq).trim().toLowerCase()] = value;
  }
  return pairs;
}

/** The hops the proxies recorded (leftmost first), and the host and proto the nearest one gave. */
function chain(
  headers: UpgradeHeaders,
  kind: ForwardedHeaders,
): { hops: string[]; host: string | undefined; proto: string | undefined } {
  if (kind === "forwarded") {
    const elements = list(headers.forwarded).map(forwardedElement);
    const nearest = elements.at(-1);
    return {
      hops: elements.map((element) => element.for ?? "unknown"),
      host: nearest?.host,
      proto: nearest?.proto,
    };
  }
  return {
    hops: list(headers["x-forwarded-for"]),
    host: list(headers["x-forwarded-host"]).at(-1),
    proto: list(headers["x-forwarded-proto"]).at(-1),
  };
}

function proto(value: string | undefined): string | undefined {
  const lower = value?.trim().toLowerCase();
  return lower === "http" || lower === "https" ? lower : undefined;
}

/** The view without any proxy: the socket's address and the request's own Host. */
function direct(headers: UpgradeHeaders, remoteAddress: string | undefined): ForwardedView {
  return { address: remoteAddress, host: single(headers.host), proto: undefined };
}

/**
 * Compiles a `trustProxy` setting (throws `invalid_option` on a bad one).
 * `false`/undefined reads no forwarded header at all.
 */
export function forwardedReader(trust: TrustProxy | undefined): ForwardedReader {
  if (trust === undefined || trust === false) return direct;
  const options: TrustProxyOptions =
    typeof trust === "number"
      ? { hops: trust }
      : Array.isArray(trust)
        ? { addresses: trust as readonly string[] }
        : (trust as TrustProxyOptions);
  const kind = options.header ?? "x-forwarded";
  if (kind !== "x-forwarded" && kind !== "forwarded") invalid(`unknown header ${String(kind)}`);
  const { hops, addresses } = options;
  if ((hops === undefined) === (addresses === undefined)) {
    invalid("give either hops or addresses");
  }
  let trusted: (address: string, index: number) => boolean;
  if (hops !== undefined) {
    if (!Number.isInteger(hops) || hops < 1) invalid("hops must be a whole number ≥ 1");
    trusted = (_address, index) => index < hops;
  } else {
    if (addresses!.length === 0) invalid("addresses is empty");
    const matchers = addresses!.map(addressMatcher);
    trusted = (address) => matchers.some((matches) => matches(address));
  }
  return (headers, remoteAddress) => {
    if (remoteAddress === undefined) return direct(headers, remoteAddress);
    // Index 0 is the socket's peer, then each recorded hop from the right.
    const peer = normalizeAddress(remoteAddress);
    if (!trusted(peer, 0)) return direct(headers, remoteAddress);
    const forwarded = chain(headers, kind);
    let address = peer;
    for (let i = forwarded.hops.length - 1, index = 1; i >= 0; i--, index++) {
      address = normalizeAddress(forwarded.hops[i]!);
      if (!trusted(address, index)) break;
    }
    return {
      address,
      host: forwarded.host ?? single(headers.host),
      proto: proto(forwarded.proto),
    };
  };
}

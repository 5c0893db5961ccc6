// trustProxy's parsing (core/forwarded.ts), table-driven: which address,
// Host and scheme a request has under each setting, forged headers included.
import { describe, expect, it } from "vitest";
import { forwardedReader, type TrustProxy, type UpgradeHeaders } from "../src/core/index.js";

interface Row {
  name: string;
  trust: TrustProxy | undefined;
  peer: string | undefined;
  headers: UpgradeHeaders;
  address: string | undefined;
  host?: string | undefined;
  proto?: string | undefined;
}

const HOST = { host: "upstream:5000" };

const rows: Row[] = [
  // Off: nothing forwarded is read, whatever the peer.
  {
    name: "off: X-Forwarded-* ignored",
    trust: undefined,
    peer: "127.0.0.1",
    headers: { ...HOST, "x-forwarded-for": "1.1.1.1", "x-forwarded-host": "evil:1" },
    address: "127.0.0.1",
    host: "upstream:5000",
  },
  {
    name: "false: same as off",
    trust: false,
    peer: "10.0.0.1",
    headers: { ...HOST, "x-forwarded-for": "1.1.1.1", "x-forwarded-proto": "https" },
    address: "10.0.0.1",
    host: "upstream:5000",
  },
  // One hop (one nginx): the entry nginx appended, never the client's.
  {
    name: "1 hop: the rightmost X-Forwarded-For entry",
    trust: 1,
    peer: "127.0.0.1",
    headers: {
      ...HOST,
      "x-forwarded-for": "203.0.113.9",
      "x-forwarded-host": "app.example:8081",
      "x-forwarded-proto": "http",
    },
    address: "203.0.113.9",
    host: "app.example:8081",
    proto: "http",
  },
  {
    name: "1 hop: a forged leftmost entry is not believed",
    trust: 1,
    peer: "127.0.0.1",
    headers: { ...HOST, "x-forwarded-for": "10.9.4.196, 127.0.0.2" },
    address: "127.0.0.2",
    host: "upstream:5000",
  },
  {
    name: "1 hop: repeated headers are one list",
    trust: 1,
    peer: "127.0.0.1",
    headers: { ...HOST, "x-forwarded-for": ["6.6.6.6", "198.51.100.4"] },
    address: "198.51.100.4",
  },
  {
    name: "1 hop: no X-Forwarded-For is the peer itself",
    trust: 1,
    peer: "::ffff:127.0.0.1",
    headers: HOST,
    address: "127.0.0.1",
    host: "upstream:5000",
  },
  {
    name: "2 hops: the second entry from the right",
    trust: 2,
    peer: "10.0.0.2",
    headers: { ...HOST, "x-forwarded-for": "6.6.6.6, 198.51.100.4, 10.0.0.1" },
    address: "198.51.100.4",
  },
  {
    name: "3 hops, only 2 recorded: the leftmost recorded",
    trust: 3,
    peer: "10.0.0.2",
    headers: { ...HOST, "x-forwarded-for": "198.51.100.4, 10.0.0.1" },
    address: "198.51.100.4",
  },
  {
    name: "several X-Forwarded-Host/Proto values: the nearest proxy's (rightmost)",
    trust: 1,
    peer: "127.0.0.1",
    headers: {
      ...HOST,
      "x-forwarded-host": "forged.example, app.example",
      "x-forwarded-proto": "http, https",
    },
    address: "127.0.0.1",
    host: "app.example",
    proto: "https",
  },
  {
    name: "an unknown scheme is not believed",
    trust: 1,
    peer: "127.0.0.1",
    headers: { ...HOST, "x-forwarded-proto": "gopher" },
    address: "127.0.0.1",
    proto: undefined,
  },
  // A list of proxy addresses.
  {
    name: "addresses: an untrusted peer's headers are ignored",
    trust: ["10.0.0.1"],
    peer: "192.0.2.50",
    headers: { ...HOST, "x-forwarded-for": "1.1.1.1", "x-forwarded-host": "evil.example" },
    address: "192.0.2.50",
    host: "upstream:5000",
  },
  {
    name: "addresses: walks left past every trusted proxy",
    trust: ["10.0.0.0/8"],
    peer: "10.0.0.2",
    headers: { ...HOST, "x-forwarded-for": "6.6.6.6, 198.51.100.4, 10.1.2.3" },
    address: "198.51.100.4",
  },
  {
    name: "addresses: loopback, IPv4-mapped peer",
    trust: ["loopback"],
    peer: "::ffff:127.0.0.1",
    headers: { ...HOST, "x-forwarded-for": "198.51.100.4" },
    address: "198.51.100.4",
  },
  {
    name: "addresses: loopback, IPv6 peer",
    trust: ["loopback"],
    peer: "::1",
    headers: { ...HOST, "x-forwarded-for": "2001:db8::7" },
    address: "2001:db8::7",
  },
  {
    name: "addresses: /32 is one address only",
    trust: ["10.0.0.1/32"],
    peer: "10.0.0.2",
    headers: { ...HOST, "x-forwarded-for": "1.1.1.1" },
    address: "10.0.0.2",
  },
  // RFC 7239 Forwarded.
  {
    name: "Forwarded: for, host and proto of the nearest element; quoted IPv6 with port",
    trust: { hops: 1, header: "forwarded" },
    peer: "127.0.0.1",
    headers: {
      ...HOST,
      forwarded:
        'for=6.6.6.6;host=forged, for="[2001:db8:cafe::17]:4711";host="app.example:8081";proto=http',
    },
    address: "2001:db8:cafe::17",
    host: "app.example:8081",
    proto: "http",
  },
  {
    name: "Forwarded: IPv4 with port",
    trust: { hops: 1, header: "forwarded" },
    peer: "127.0.0.1",
    headers: { ...HOST, forwarded: "for=192.0.2.43:47011;proto=https" },
    address: "192.0.2.43",
    proto: "https",
  },
  {
    name: "Forwarded setting: a forged X-Forwarded-For passed through is not read",
    trust: { hops: 1, header: "forwarded" },
    peer: "127.0.0.1",
    headers: { ...HOST, "x-forwarded-for": "6.6.6.6", forwarded: "for=198.51.100.4" },
    address: "198.51.100.4",
  },
  {
    name: "X-Forwarded setting: a forged Forwarded passed through is not read",
    trust: 1,
    peer: "127.0.0.1",
    headers: { ...HOST, forwarded: "for=6.6.6.6;host=evil", "x-forwarded-for": "198.51.100.4" },
    address: "198.51.100.4",
    host: "upstream:5000",
  },
  {
    name: "Forwarded: obfuscated identifier kept as written",
    trust: { hops: 1, header: "forwarded" },
    peer: "127.0.0.1",
    headers: { ...HOST, forwarded: "for=_hidden" },
    address: "_hidden",
  },
  {
    name: "no socket address: nothing to trust",
    trust: 1,
    peer: undefined,
    headers: { ...HOST, "x-forwarded-for": "1.1.1.1" },
    address: undefined,
    host: "upstream:5000",
  },
];

describe("forwardedReader (trustProxy)", () => {
  it.each(rows)("$name", (row) => {
    const view = forwardedReader(row.trust)(row.headers, row.peer);
    expect(view.address).toBe(row.address);
    if ("host" in row) expect(view.host).toBe(row.host);
    if ("proto" in row) expect(view.proto).toBe(row.proto);
  });

  it.each<[string, TrustProxy]>([
    ["hops 0", 0],
    ["hops 1.5", 1.5],
    ["an empty list", []],
    ["a bad CIDR", ["10.0.0.0/33"]],
    ["both hops and addresses", { hops: 1, addresses: ["10.0.0.1"] }],
    ["neither", {}],
    ["an unknown header", { hops: 1, header: "x-real-ip" as "forwarded" }],
  ])("refuses %s with invalid_option", (_name, trust) => {
    expect(() => forwardedReader(trust)).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });
});

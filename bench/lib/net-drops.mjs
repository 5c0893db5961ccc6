// What the kernel did to the bench's packets (issue 26): on loopback a TCP
// segment is queued on the sending CPU's input backlog (`netdev_max_backlog`
// packets, 1000 by default); a full backlog drops it, and TCP sends it again
// only after its retransmission timeout (200 ms at the least, doubling on
// each further loss). A silent client's last ping lost that way reaches the
// server that much later, and its detection looks that much late, though the
// server judged on time from what it heard. Read before and after a phase:
//
//   /proc/net/softnet_stat   column 2, per CPU: packets dropped, backlog full
//   /proc/net/snmp           Tcp RetransSegs: segments sent again
//   /proc/net/netstat        TcpExt TCPTimeouts (retransmission timer fired),
//                            TCPSynRetrans (of them, handshakes)
// Counters are machine-wide: another process's traffic counts too.
import { readFileSync } from "node:fs";

function read(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** `Prefix: name name …` / `Prefix: value value …` line pairs (snmp, netstat) as one map. */
function pairs(text, prefix) {
  const lines = text.split("\n").filter((line) => line.startsWith(`${prefix}:`));
  const out = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].split(/\s+/).slice(1);
    const values = lines[i + 1].split(/\s+/).slice(1);
    names.forEach((name, j) => {
      out[name] = Number(values[j]);
    });
  }
  return out;
}

/** The counters now; `undefined` fields where /proc does not say (another OS, a sandbox). */
export function readNetCounters() {
  const softnet = read("/proc/net/softnet_stat")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => Number.parseInt(line.trim().split(/\s+/)[1], 16));
  const tcp = pairs(read("/proc/net/snmp"), "Tcp");
  const ext = pairs(read("/proc/net/netstat"), "TcpExt");
  return {
    backlogDropsPerCpu: softnet,
    backlogDrops: softnet.length > 0 ? softnet.reduce((a, b) => a + b, 0) : undefined,
    retransSegs: tcp.RetransSegs,
    rtoFired: ext.TCPTimeouts,
    synRetrans: ext.TCPSynRetrans,
  };
}

/** What happened between two readings. */
export function netDelta(before, after) {
  const d = (key) =>
    before[key] === undefined || after[key] === undefined ? undefined : after[key] - before[key];
  return {
    backlogDrops: d("backlogDrops"),
    backlogDropsPerCpu: after.backlogDropsPerCpu.map(
      (v, i) => v - (before.backlogDropsPerCpu[i] ?? 0),
    ),
    retransSegs: d("retransSegs"),
    rtoFired: d("rtoFired"),
    synRetrans: d("synRetrans"),
  };
}

/** "12 dropped (cpu0 2, cpu1 10), 40 resent, RTO fired 30" for a log line or a table cell. */
export function describeNetDelta(delta) {
  if (delta.backlogDrops === undefined) return "kernel counters unavailable";
  const perCpu = delta.backlogDropsPerCpu.map((v, i) => `cpu${i} ${v}`).join(", ");
  return `${delta.backlogDrops} dropped (${perCpu}), ${delta.retransSegs ?? "?"} resent, RTO fired ${delta.rtoFired ?? "?"}`;
}

// The one loopback TCP proxy, over real sockets on 127.0.0.1 (port 0): what a
// blackholed link does with the bytes sent into it, "hold" (delivered in order
// on heal, as TCP retransmission would) or "discard" (lost for good). No
// wall-clock sleep: every wait is for an I/O event, and TCP's ordering makes
// the outcome exact (what arrives after the heal shows what was kept).
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  HarnessErrorCode,
  type LoopbackProxy,
  loopbackProxyDefaults,
  startLoopbackProxy,
  type WhileBlackholed,
} from "../src/index.js";
import { until } from "../src/until.js";

interface Peer {
  socket: net.Socket;
  received: string;
  ended: boolean;
  closed: boolean;
}

function peer(socket: net.Socket): Peer {
  const p: Peer = { socket, received: "", ended: false, closed: false };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    p.received += chunk;
  });
  socket.on("end", () => {
    p.ended = true;
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    p.closed = true;
  });
  return p;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A target server, a proxy in front of it, and one client through the proxy, link working. */
async function link(whileBlackholed?: WhileBlackholed) {
  const accepted: Peer[] = [];
  const target = net.createServer((s) => accepted.push(peer(s)));
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => target.close(() => resolve())));
  let activity = 0;
  const proxy: LoopbackProxy = await startLoopbackProxy({
    targetPort: (target.address() as net.AddressInfo).port,
    onActivity: () => activity++,
    ...(whileBlackholed === undefined ? {} : { whileBlackholed }),
  });
  cleanups.push(() => proxy.close());
  const client = peer(net.connect(proxy.port, "127.0.0.1"));
  cleanups.push(() => {
    client.socket.destroy();
  });
  client.socket.write("a");
  await until(() => accepted[0]?.received === "a", "the first byte through");
  const server = accepted[0]!;
  server.socket.write("1");
  await until(() => client.received === "1", "the first byte back");
  /** Resolves once the proxy has seen something move (the bytes just sent into it). */
  const proxySawIt = async (before: number) =>
    until(() => activity > before, "the proxy to see it");
  return { proxy, client, server, accepted, activity: () => activity, proxySawIt };
}

describe("startLoopbackProxy", () => {
  it('defaults to whileBlackholed: "hold"', async () => {
    expect(loopbackProxyDefaults.whileBlackholed).toBe("hold");
    const { proxy } = await link();
    expect(proxy.whileBlackholed).toBe("hold");
  });

  it.each([
    // What arrives after the heal shows what the blackhole kept: TCP keeps order.
    { mode: "hold" as const, toServer: "abc", toClient: "123" },
    { mode: "discard" as const, toServer: "ac", toClient: "13" },
  ])(
    '"$mode": nothing passes while blackholed; after the heal $toServer and $toClient arrive',
    async ({ mode, toServer, toClient }) => {
      const { proxy, client, server, activity, proxySawIt } = await link(mode);
      proxy.blackhole();
      let n = activity();
      client.socket.write("b");
      await proxySawIt(n);
      n = activity();
      server.socket.write("2");
      await proxySawIt(n);
      expect(server.received).toBe("a");
      expect(client.received).toBe("1");
      proxy.heal();
      client.socket.write("c");
      server.socket.write("3");
      await until(() => server.received.endsWith("c"), "the bytes after the heal");
      await until(() => client.received.endsWith("3"), "the bytes back after the heal");
      expect(server.received).toBe(toServer);
      expect(client.received).toBe(toClient);
    },
  );

  it("blackhole(mode) overrides the proxy's default for that blackhole only", async () => {
    const { proxy, client, server, activity, proxySawIt } = await link("hold");
    proxy.blackhole("discard");
    let n = activity();
    client.socket.write("b");
    await proxySawIt(n);
    proxy.heal();
    client.socket.write("c");
    await until(() => server.received.endsWith("c"), "the byte after the heal");
    expect(server.received).toBe("ac");
    proxy.blackhole(); // the default again: held
    n = activity();
    client.socket.write("d");
    await proxySawIt(n);
    proxy.heal();
    await until(() => server.received.endsWith("d"), "the held byte");
    expect(server.received).toBe("acd");
  });

  it('"discard": an end sent while blackholed never reaches the other side', async () => {
    const { proxy, client, server, activity, proxySawIt } = await link("discard");
    proxy.blackhole();
    const n = activity();
    client.socket.end();
    await proxySawIt(n);
    proxy.heal();
    server.socket.write("still here");
    await until(() => activity() > n + 1, "the server's bytes to reach the proxy");
    expect(server.ended).toBe(false);
  });

  it('"hold": an end sent while blackholed reaches the other side only on heal', async () => {
    const { proxy, client, server, activity, proxySawIt } = await link("hold");
    proxy.blackhole();
    const n = activity();
    client.socket.end();
    await proxySawIt(n);
    expect(server.ended).toBe(false);
    proxy.heal();
    await until(() => server.ended, "the end after the heal");
  });

  it("a blackhole covers links opened during it; offline refuses new connections at once", async () => {
    const { proxy, accepted } = await link("hold");
    proxy.blackhole();
    const late = peer(net.connect(proxy.port, "127.0.0.1"));
    cleanups.push(() => {
      late.socket.destroy();
    });
    late.socket.write("x");
    proxy.heal();
    await until(() => accepted[1]?.received === "x", "the late link's held byte");

    proxy.setOffline(true);
    const refused = peer(net.connect(proxy.port, "127.0.0.1"));
    await until(() => refused.closed, "the refused connection to close");
    expect(accepted).toHaveLength(2);
  });

  it("abort ends both sockets of every link", async () => {
    const { proxy, client, server } = await link("discard");
    proxy.abort();
    await until(() => client.closed && server.closed, "both ends closed");
  });

  it("refuses an unknown whileBlackholed with invalid_option", async () => {
    await expect(
      startLoopbackProxy({ targetPort: 1, whileBlackholed: "drop" as WhileBlackholed }),
    ).rejects.toMatchObject({ code: HarnessErrorCode.InvalidOption });
  });
});

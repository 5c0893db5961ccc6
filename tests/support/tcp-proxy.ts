// A loopback TCP proxy whose links can be blackholed: bytes stop flowing in
// both directions while both sockets stay open, which is what a dead NAT
// entry, a pulled cable or a suspended laptop looks like to each end.
import net from "node:net";

export interface ProxyLink {
  readonly id: number;
  /** Stop forwarding both ways; close nothing. Bytes sent meanwhile are discarded. */
  blackhole(): void;
  /** Forward again. */
  heal(): void;
  readonly blackholed: boolean;
}

export interface TcpProxy {
  readonly port: number;
  readonly links: readonly ProxyLink[];
  /** Blackhole every current link (and new ones too, while `blackholeNew` is set). */
  blackholeAll(): void;
  healAll(): void;
  /** New links are blackholed from their start when true. */
  blackholeNew: boolean;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const links: Array<ProxyLink & { destroy(): void }> = [];
  let nextId = 0;
  const proxy: TcpProxy = {
    port: 0,
    links,
    blackholeNew: false,
    blackholeAll: () => {
      for (const link of links) link.blackhole();
    },
    healAll: () => {
      for (const link of links) link.heal();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) link.destroy();
        server.close(() => resolve());
      }),
  };

  const server = net.createServer((downstream) => {
    const upstream = net.connect(target.port, target.host);
    let blackholed = proxy.blackholeNew;
    // Discard instead of pausing: pausing would let TCP back-pressure tell the
    // sender something; a blackhole tells nobody anything.
    downstream.on("data", (chunk) => {
      if (!blackholed) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!blackholed) downstream.write(chunk);
    });
    const end = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on("close", () => {
      if (!blackholed) upstream.end();
    });
    upstream.on("close", () => {
      if (!blackholed) downstream.end();
    });
    downstream.on("error", end);
    upstream.on("error", end);
    const link = {
      id: nextId++,
      blackhole: () => {
        blackholed = true;
      },
      heal: () => {
        blackholed = false;
      },
      get blackholed() {
        return blackholed;
      },
      destroy: end,
    };
    links.push(link);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  Object.defineProperty(proxy, "port", { value: address.port });
  return proxy;
}

import net from "node:net";

/**
 * A loopback TCP proxy for one client, so its link can fail: `blackhole`
 * holds every byte both ways (nothing closes) until `heal`; `offline` also
 * refuses new connections at once; `abort` ends both sockets with no
 * WebSocket close frame. `onActivity` is called whenever anything moves, so
 * the harness can tell when real I/O has gone quiet.
 */
export interface LinkProxy {
  readonly port: number;
  blackhole(): void;
  heal(): void;
  setOffline(offline: boolean): void;
  abort(): void;
  close(): Promise<void>;
}

interface Pipe {
  readonly downstream: net.Socket;
  readonly upstream: net.Socket;
  destroy(): void;
}

export async function startLinkProxy(options: {
  targetPort: () => number;
  onActivity: () => void;
  onUpstream: (localPort: number) => void;
}): Promise<LinkProxy> {
  const pipes = new Set<Pipe>();
  let blackholed = false;
  let offline = false;
  const held: Array<() => void> = [];
  const down = () => blackholed || offline;
  const release = () => {
    if (down()) return;
    for (const action of held.splice(0)) action();
  };
  /** Forwards now, or holds until the link is up again. */
  const forward = (action: () => void) => {
    options.onActivity();
    if (down()) held.push(action);
    else action();
  };

  const server = net.createServer((downstream) => {
    options.onActivity();
    if (offline) {
      downstream.destroy();
      return;
    }
    const upstream = net.connect(options.targetPort(), "127.0.0.1");
    const pipe: Pipe = {
      downstream,
      upstream,
      destroy() {
        pipes.delete(pipe);
        downstream.destroy();
        upstream.destroy();
      },
    };
    pipes.add(pipe);
    upstream.on("connect", () => {
      options.onActivity();
      if (upstream.localPort !== undefined) options.onUpstream(upstream.localPort);
    });
    downstream.on("data", (chunk) => forward(() => upstream.write(chunk)));
    upstream.on("data", (chunk) => forward(() => downstream.write(chunk)));
    downstream.on("end", () => forward(() => upstream.end()));
    upstream.on("end", () => forward(() => downstream.end()));
    const broken = () => {
      options.onActivity();
      pipe.destroy();
    };
    downstream.on("error", broken);
    upstream.on("error", broken);
    downstream.on("close", () => forward(() => pipe.destroy()));
    upstream.on("close", () => forward(() => pipe.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;

  return {
    port: address.port,
    blackhole() {
      blackholed = true;
    },
    heal() {
      blackholed = false;
      release();
    },
    setOffline(value) {
      offline = value;
      release();
    },
    abort() {
      held.length = 0;
      for (const pipe of [...pipes]) pipe.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        held.length = 0;
        for (const pipe of [...pipes]) pipe.destroy();
        server.close(() => resolve());
      }),
  };
}

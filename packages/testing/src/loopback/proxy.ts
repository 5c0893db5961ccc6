import net from "node:net";
import { checkWhileBlackholed, type WhileBlackholed } from "../blackhole.js";

export type { WhileBlackholed };

/** The defaults of `startLoopbackProxy`'s options, frozen. */
export const loopbackProxyDefaults = Object.freeze({
  /** `"hold"`: a healed link delivers what was sent meanwhile (as TCP would, by retransmitting). */
  whileBlackholed: "hold" as WhileBlackholed,
});

/** The options of `startLoopbackProxy`; defaults in `loopbackProxyDefaults`. */
export interface LoopbackProxyOptions {
  /** The port on 127.0.0.1 to forward to; a function is read for each new connection (a restarted server). */
  targetPort: number | (() => number);
  /** See `WhileBlackholed`. Default `loopbackProxyDefaults.whileBlackholed`. */
  whileBlackholed?: WhileBlackholed;
  /** Called whenever anything moves (a connection, bytes, an end), so a caller can tell when I/O went quiet. */
  onActivity?: () => void;
  /** Called with the local port of each upstream connection: the target sees it as the remote port. */
  onUpstream?: (localPort: number) => void;
}

/**
 * A loopback TCP proxy whose links can fail. `blackhole()` stops every byte
 * both ways on every link, current and new, and closes nothing (neither end
 * is told anything); `heal()` lets bytes flow again. `setOffline(true)` also
 * refuses new connections at once. `abort()` ends both sockets of every link
 * with no WebSocket close frame. Listens on 127.0.0.1, port 0, only.
 */
export interface LoopbackProxy {
  readonly port: number;
  /** The default mode of `blackhole()`. */
  readonly whileBlackholed: WhileBlackholed;
  /** Every byte stops; `mode` (default: the proxy's `whileBlackholed`) says what becomes of them. */
  blackhole(mode?: WhileBlackholed): void;
  /** Bytes flow again; in `"hold"` mode what was held is delivered first, in order. */
  heal(): void;
  /** `true`: every byte stops and new connections are refused at once; `false` ends that (a `blackhole()` stays until `heal()`). */
  setOffline(offline: boolean): void;
  /** Ends both sockets of every current link, with no WebSocket close frame. */
  abort(): void;
  /** Destroys every link and stops listening. */
  close(): Promise<void>;
}

interface Pipe {
  readonly downstream: net.Socket;
  readonly upstream: net.Socket;
  destroy(): void;
}

/** Starts a `LoopbackProxy` on 127.0.0.1, port 0, in front of `targetPort`. */
export async function startLoopbackProxy(options: LoopbackProxyOptions): Promise<LoopbackProxy> {
  const whileBlackholed = checkWhileBlackholed(
    options.whileBlackholed ?? loopbackProxyDefaults.whileBlackholed,
  );
  /** The current blackhole's mode. */
  let mode = whileBlackholed;
  const { targetPort } = options;
  const onActivity = options.onActivity ?? (() => {});
  const pipes = new Set<Pipe>();
  let blackholed = false;
  let offline = false;
  const held: Array<() => void> = [];
  const down = () => blackholed || offline;
  const release = () => {
    if (down()) return;
    for (const action of held.splice(0)) action();
  };
  /** Forwards now or, while down, holds or drops it (`whileBlackholed`). */
  const forward = (action: () => void) => {
    onActivity();
    if (!down()) action();
    else if (mode === "hold") held.push(action);
  };

  const server = net.createServer((downstream) => {
    onActivity();
    if (offline) {
      downstream.destroy();
      return;
    }
    const upstream = net.connect(
      typeof targetPort === "function" ? targetPort() : targetPort,
      "127.0.0.1",
    );
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
      onActivity();
      if (upstream.localPort !== undefined) options.onUpstream?.(upstream.localPort);
    });
    downstream.on("data", (chunk) => forward(() => upstream.write(chunk)));
    upstream.on("data", (chunk) => forward(() => downstream.write(chunk)));
    downstream.on("end", () => forward(() => upstream.end()));
    upstream.on("end", () => forward(() => downstream.end()));
    const broken = () => {
      onActivity();
      pipe.destroy();
    };
    downstream.on("error", broken);
    upstream.on("error", broken);
    downstream.on("close", () => forward(() => pipe.destroy()));
    upstream.on("close", () => forward(() => pipe.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;

  const destroyAll = () => {
    held.length = 0;
    for (const pipe of [...pipes]) pipe.destroy();
  };
  return {
    port: address.port,
    whileBlackholed,
    blackhole(blackholeMode = whileBlackholed) {
      mode = checkWhileBlackholed(blackholeMode);
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
    abort: destroyAll,
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll();
        server.close(() => resolve());
      }),
  };
}

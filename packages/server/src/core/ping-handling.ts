import { type Clock, encodeServerMessage } from "@heartline/protocol";
import { SlicedSweep } from "./sliced-sweep.js";

// Ping handling on the server, by layer:
// - the contract's `ping` → `pong` (PROTOCOL.md "Heartbeat"): `pongFor` below,
//   answered at once by the connection (`connection.ts`, `receive`);
// - the transport's own control pings from a peer (RFC 6455 ping frames):
//   answered by the `ws` adapter, which also refuses a flood of them
//   (`ws/control-pings.ts`);
// - the transport-level keep-alive the server sends (`keepAliveIntervalMs`),
//   for proxies that drop idle TCP: `KeepAliveSweep` below.
// None of them counts toward the 2X timeout except the client's data frames
// (`heartbeat-timeout.ts`).

/** The `pong` for a client's `ping` (its `seq` echoed). */
export function pongFor(seq: number): string {
  return encodeServerMessage({ type: "pong", seq });
}

/** What the sweep pings: every live connection. */
export interface KeepAliveTarget {
  keepAlive(): void;
}

/**
 * The transport-level keep-alive: every live connection gets a WebSocket
 * ping at least once per `intervalMs`, from one clock timer for the whole
 * server (never one per connection), a slice of the connections at a time
 * (`SlicedSweep`: every 250 ms, sized so a pass takes one interval), so
 * that 15,000 connections are not pinged in one burst that holds the loop.
 * It runs while there are connections and no goodbye was sent (through a
 * drain too: the clients it keeps may sit behind idle-cutting proxies).
 */
export class KeepAliveSweep {
  readonly #sweep: SlicedSweep<KeepAliveTarget> | undefined;

  /** `intervalMs` 0 turns it off. `open` says whether the server has not said goodbye yet. */
  constructor(clock: Clock, intervalMs: number, live: Set<KeepAliveTarget>, open: () => boolean) {
    this.#sweep =
      intervalMs > 0
        ? new SlicedSweep<KeepAliveTarget>({
            clock,
            periodMs: intervalMs,
            items: () => live.values(),
            count: () => live.size,
            ready: open,
            visit: (slice) => {
              for (const conn of slice) conn.keepAlive();
            },
          })
        : undefined;
  }

  /** A connection arrived: start sweeping if not already. */
  start(): void {
    this.#sweep?.start();
  }

  stop(): void {
    this.#sweep?.stop();
  }
}

import { type Clock, encodeServerMessage, type TimerHandle } from "@heartline/protocol";

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
 * The transport-level keep-alive: one clock timer for the whole server
 * (never one per connection) that pings every live connection each
 * `intervalMs`. It runs while there are connections and no goodbye was sent
 * (through a drain too: the clients it keeps may sit behind idle-cutting proxies).
 */
export class KeepAliveSweep {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #live: Iterable<KeepAliveTarget> & { readonly size: number };
  readonly #open: () => boolean;
  #handle: TimerHandle | undefined;

  /** `intervalMs` 0 turns it off. `open` says whether the server has not said goodbye yet. */
  constructor(
    clock: Clock,
    intervalMs: number,
    live: Iterable<KeepAliveTarget> & { readonly size: number },
    open: () => boolean,
  ) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#live = live;
    this.#open = open;
  }

  /** A connection arrived: start sweeping if not already. */
  start(): void {
    if (this.#intervalMs > 0 && this.#handle === undefined) this.#schedule();
  }

  stop(): void {
    if (this.#handle !== undefined) {
      this.#clock.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
  }

  #schedule(): void {
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined;
      for (const conn of this.#live) conn.keepAlive();
      if (this.#live.size > 0 && this.#open()) this.#schedule();
    }, this.#intervalMs);
  }
}

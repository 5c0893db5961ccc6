import type { Clock, TimerHandle } from "@heartline/protocol";

/** What shutdown does to each connection still there. */
export interface ShutdownTarget {
  /** Sends `goodbye`, then closes 1001. */
  goAway(goodbye: string): void;
  /** The deadline passed: drop the socket now. */
  destroy(): void;
}

/**
 * Where the server is in its life: `open`; `draining` (`close({ drainMs })`
 * called: new upgrades get 503 + `Retry-After`, open clients are kept);
 * `closing` (goodbye sent, waiting for sockets to go); `closed` (`close()`
 * resolved). For readiness checks.
 */
export type ServerState = "open" | "draining" | "closing" | "closed";

/**
 * The server's shutdown: an optional drain (refusing new upgrades while the
 * open clients carry on, so a load balancer polling readiness stops routing
 * here before anyone is told to leave), then `goodbye` and 1001 to every
 * connection, done when every socket is gone; those still there
 * `closeTimeoutMs` after the goodbye are destroyed. One promise, so
 * `close()` is idempotent.
 */
export class Shutdown {
  readonly #clock: Clock;
  readonly #closeTimeoutMs: number;
  #phase: ServerState = "open";
  #closing: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #deadline: TimerHandle | undefined;
  /** What `afterGoodbye` still does (a shared session store handing its sessions on). */
  #pending: Promise<void> | undefined;

  constructor(clock: Clock, closeTimeoutMs: number) {
    this.#clock = clock;
    this.#closeTimeoutMs = closeTimeoutMs;
  }

  get phase(): ServerState {
    return this.#phase;
  }

  /** True once `begin` was called (its drain included): no new connection is accepted. */
  get started(): boolean {
    return this.#closing !== undefined;
  }

  /** True once the goodbye went out: a connection ending now ends its session with it. */
  get saidGoodbye(): boolean {
    return this.#phase === "closing" || this.#phase === "closed";
  }

  /**
   * Starts the shutdown of `live` (a no-op returning the same promise after
   * the first call): after `drainMs` (0: at once), `goodbye()` gives the
   * frame each connection is sent, then `afterGoodbye` runs; a promise it
   * returns is waited for before the shutdown is done.
   */
  begin(
    live: ReadonlySet<ShutdownTarget>,
    drainMs: number,
    goodbye: () => string,
    afterGoodbye: () => undefined | Promise<void>,
  ): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise((resolve) => {
      this.#resolve = () => {
        this.#phase = "closed";
        resolve();
      };
    });
    const sayGoodbye = () => {
      this.#phase = "closing";
      const frame = goodbye();
      for (const conn of [...live]) conn.goAway(frame);
      const after = afterGoodbye();
      if (after !== undefined) {
        const settled = (): void => {
          this.#pending = undefined;
          if (live.size === 0 && this.#deadline === undefined) this.#resolve!();
        };
        // A rejection is the caller's to report (it is not one here): settled either way.
        this.#pending = after.then(settled, settled);
      }
      if (live.size === 0) this.#done();
      else {
        this.#deadline = this.#clock.setTimeout(() => {
          this.#deadline = undefined;
          for (const conn of [...live]) conn.destroy();
        }, this.#closeTimeoutMs);
      }
    };
    if (drainMs === 0) sayGoodbye();
    else {
      this.#phase = "draining";
      this.#clock.setTimeout(sayGoodbye, drainMs);
    }
    return this.#closing;
  }

  /** The last socket is gone: a shutdown past its goodbye is done (a drain runs its full length). */
  allGone(): void {
    if (this.#phase !== "closing") return;
    if (this.#deadline !== undefined) {
      this.#clock.clearTimeout(this.#deadline);
      this.#deadline = undefined;
    }
    this.#done();
  }

  /** Every socket is gone: done, unless `afterGoodbye`'s promise is still pending (then when it settles). */
  #done(): void {
    if (this.#pending === undefined) this.#resolve!();
  }
}

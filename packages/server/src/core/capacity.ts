/**
 * How many connections the server holds, in total and per address: the
 * ledger behind the contract's Capacity check (503 total, 429 per address).
 *
 * A connection is held from the moment it passes the capacity check until its
 * socket is gone (a closing socket still holds a descriptor). An upgrade that
 * passed the check but still waits on `authenticate` holds a place too, so a
 * burst of slow upgrades cannot all pass the check before any of them is
 * accepted; that place is given back when its admission ends, and the
 * accepted connection takes its own in the same turn.
 */
export class CapacityLedger {
  readonly #max: number;
  readonly #maxPerAddress: number;
  #held = 0;
  /** Only kept when a per-address limit is set. */
  readonly #byAddress = new Map<string, number>();

  constructor(maxConnections: number, maxConnectionsPerAddress: number) {
    this.#max = maxConnections;
    this.#maxPerAddress = maxConnectionsPerAddress;
  }

  /** "total" or "address" when taking one more would pass that limit; undefined when it fits. */
  full(address: string | undefined): "total" | "address" | undefined {
    if (this.#held >= this.#max) return "total";
    if (address !== undefined && this.#maxPerAddress !== Infinity) {
      if ((this.#byAddress.get(address) ?? 0) >= this.#maxPerAddress) return "address";
    }
    return undefined;
  }

  take(address: string | undefined): void {
    this.#held++;
    if (address !== undefined && this.#maxPerAddress !== Infinity) {
      this.#byAddress.set(address, (this.#byAddress.get(address) ?? 0) + 1);
    }
  }

  release(address: string | undefined): void {
    this.#held--;
    if (address !== undefined && this.#maxPerAddress !== Infinity) {
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left === 0) this.#byAddress.delete(address);
      else this.#byAddress.set(address, left);
    }
  }
}

import type { Clock } from "@heartline/protocol";
import { type Deadlined, DeadlineQueue } from "./deadline-queue.js";

/**
 * The 2X timeout (PROTOCOL.md "Heartbeat"): a connection from which no data
 * frame has arrived for `timeoutMs` (twice the ping interval by default) is
 * closed 4000 and reported `timeout`. A connection's frames only move its
 * `lastHeardAt` (no timer work per frame); every watched connection shares
 * one deadline queue under one clock timer, which checks each real deadline
 * when it comes. The verdict itself, 4000 then a hard drop, is the
 * connection's `deadlinePassed` (`connection.ts`).
 */
export class HeartbeatTimeout<T extends Deadlined> {
  readonly #queue: DeadlineQueue<T>;

  constructor(clock: Clock, timeoutMs: number) {
    this.#queue = new DeadlineQueue(clock, timeoutMs);
  }

  /** Starts the watch (deadline `lastHeardAt + timeoutMs`); no-op if watched. */
  watch(conn: T): void {
    this.#queue.add(conn);
  }

  /** Stops it; no-op if not watched. */
  unwatch(conn: T): void {
    this.#queue.remove(conn);
  }
}

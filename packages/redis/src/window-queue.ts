import type { Clock, TimerHandle } from "@heartline/protocol";

/** What the queue needs of a waiting session. */
export interface Windowed {
  readonly id: string;
  /** Clock time its window started. */
  readonly detachedAt: number;
}

/**
 * The windows of the sessions waiting on this node, with ONE clock timer for
 * all of them: every window has the same length, so the order sessions start
 * waiting in (a Map keeps insertion order) is the order their windows end.
 * A session whose expiry could not be decided (Redis unreachable) is
 * `retry`ed: due now, kept apart so it never hides behind a later window.
 */
export class WindowQueue<S extends Windowed> {
  readonly #queue = new Map<string, S>();
  readonly #retry = new Map<string, S>();
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    /** Called for each session whose window has passed (it has left the queue). */
    private readonly onDue: (session: S) => void,
  ) {}

  get size(): number {
    return this.#queue.size + this.#retry.size;
  }

  /** The session's window started at `session.detachedAt` (now, or at its adoption). */
  add(session: S): void {
    this.remove(session);
    this.#queue.set(session.id, session);
    this.#arm();
  }

  /** Due again at the next `fire` (its expiry must be tried again). */
  retry(session: S): void {
    this.remove(session);
    this.#retry.set(session.id, session);
  }

  remove(session: S): void {
    if (this.#queue.get(session.id) === session) this.#queue.delete(session.id);
    if (this.#retry.get(session.id) === session) this.#retry.delete(session.id);
  }

  /** Hands every due session to `onDue` (the timer does this; so does a retry). */
  fire(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due = [...this.#retry.values()];
    this.#retry.clear();
    for (const s of this.#queue.values()) {
      if (s.detachedAt + this.windowMs > now) break;
      due.push(s);
    }
    for (const s of due) this.#queue.delete(s.id);
    for (const s of due) this.onDue(s);
    this.#arm();
  }

  clear(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#queue.clear();
    this.#retry.clear();
  }

  #arm(): void {
    const first = this.#queue.values().next();
    if (first.done === true) return;
    const at = first.value.detachedAt + this.windowMs;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }
}

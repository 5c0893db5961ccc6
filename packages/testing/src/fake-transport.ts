import type { ServerTransport } from "@heartline/server/core";

/**
 * A `ServerTransport` that goes nowhere and records what the server core
 * did with it: the frames it sent (parsed), the close codes, terminates and
 * keep-alive pings, in order. For unit tests that drive `createServerCore`
 * directly, with no network: `core.accept(new FakeServerTransport(), info)`
 * returns the sink to feed frames into.
 *
 * `reading: false` models a peer that reads nothing: every frame sent stays
 * in `bufferedAmount` (the core's outbound budgets see a backlog).
 */
export class FakeServerTransport implements ServerTransport {
  /** Every frame sent, parsed, in order. */
  readonly sent: unknown[] = [];
  /** `send:<type>`, `close:<code>:<reason>`, `terminate`, in order. */
  readonly log: string[] = [];
  /** The close codes the core asked for, in order. */
  readonly codes: number[] = [];
  bufferedAmount = 0;
  /** Transport-level keep-alive pings. */
  pings = 0;
  /** True once `terminate` was called. */
  terminated = false;
  /** False: a peer that reads nothing (see the class comment). */
  reading: boolean;

  constructor(options: { reading?: boolean } = {}) {
    this.reading = options.reading ?? true;
  }

  send(text: string): void {
    const frame = JSON.parse(text) as { type?: unknown };
    this.sent.push(frame);
    this.log.push(`send:${String(frame.type)}`);
    if (!this.reading) this.bufferedAmount += text.length;
  }

  close(code: number, reason: string): void {
    this.codes.push(code);
    this.log.push(`close:${code}:${reason}`);
  }

  terminate(): void {
    this.terminated = true;
    this.log.push("terminate");
  }

  ping(): void {
    this.pings++;
  }

  /** The `type` of every frame sent, in order. */
  types(): string[] {
    return this.sent.map((frame) => String((frame as { type?: unknown }).type));
  }

  /** How many frames of `type` were sent. */
  count(type: string): number {
    return this.types().filter((t) => t === type).length;
  }
}

import type { ServerTransport } from "../src/core/index.js";

/** A transport that records what the core sends and does (frames parsed, closes, terminates). */
export class FakeTransport implements ServerTransport {
  readonly sent: unknown[] = [];
  readonly log: string[] = [];
  bufferedAmount = 0;
  pings = 0;
  send(text: string): void {
    this.sent.push(JSON.parse(text));
    this.log.push(`send:${JSON.parse(text).type}`);
  }
  close(code: number, reason: string): void {
    this.log.push(`close:${code}:${reason}`);
  }
  terminate(): void {
    this.log.push("terminate");
  }
  ping(): void {
    this.pings++;
  }
  types(): string[] {
    return this.sent.map((m) => (m as { type: string }).type);
  }
}

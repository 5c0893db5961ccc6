import type FakeTimers from "@sinonjs/fake-timers";
import { checkWhileBlackholed } from "../blackhole.js";
import type { BlackholeOptions, FramePredicate, LinkControls } from "../driver.js";
import { HarnessError, HarnessErrorCode } from "../errors.js";
import type { Scheduler } from "../scheduler.js";
import { type Direction, frameType, type TimelineRecorder } from "../timeline.js";
import { describePacket, type Packet } from "./packets.js";

/** One socket pair on a link, as the link sees it. */
export interface LinkedConnection {
  /** Set by `abort()`: nothing more is delivered on it. */
  readonly aborted: boolean;
  abort(): void;
}

interface InFlight {
  readonly direction: Direction;
  readonly packet: Packet;
  readonly connection: LinkedConnection;
  readonly deliver: () => void;
}

interface DelayRule {
  readonly ms: number;
  readonly predicate: FramePredicate;
}

const all: FramePredicate = () => true;

function checkMs(what: string, ms: number): number {
  if (!(Number.isInteger(ms) && ms >= 0)) {
    throw new HarnessError(HarnessErrorCode.InvalidOption, `${what} must be an integer ≥ 0 (ms)`);
  }
  return ms;
}

/**
 * One client's network path to the server: latency, holds and losses, in
 * order per direction (one TCP stream each way).
 */
export class MemoryLink implements LinkControls {
  readonly #fc: FakeTimers.Clock;
  readonly #scheduler: Scheduler;
  readonly #timeline: TimelineRecorder;
  readonly #name: string;
  #blackholed = false;
  /** What the current blackhole does with what is sent into it. */
  #discard = false;
  #offline = false;
  readonly #held: InFlight[] = [];
  /**
   * Scheduled, not yet arrived, in send order. When the link goes down they
   * join `#held` at once, under the mode of that moment: a frame already on
   * the path shares the fate of everything sent after it, in order (one TCP
   * stream each way never loses a frame and delivers a later one).
   */
  readonly #inFlight = new Set<InFlight>();
  /**
   * Connections that lost a frame to a discarding blackhole: dead for good
   * (a dead NAT entry), nothing more arrives on them either way, as TCP can
   * never deliver what follows a byte it lost. Neither end is told.
   */
  readonly #severed = new WeakSet<LinkedConnection>();
  readonly #latency: Record<Direction, number> = { toServer: 0, toClient: 0 };
  readonly #drops: Record<Direction, Set<FramePredicate>> = {
    toServer: new Set(),
    toClient: new Set(),
  };
  readonly #delays: Record<Direction, Set<DelayRule>> = {
    toServer: new Set(),
    toClient: new Set(),
  };
  /** When the last packet each way is due: a later packet never overtakes it. */
  readonly #lastDue: Record<Direction, number> = { toServer: -Infinity, toClient: -Infinity };
  readonly connections = new Set<LinkedConnection>();

  constructor(
    fc: FakeTimers.Clock,
    scheduler: Scheduler,
    timeline: TimelineRecorder,
    name: string,
  ) {
    this.#fc = fc;
    this.#scheduler = scheduler;
    this.#timeline = timeline;
    this.#name = name;
  }

  get offline(): boolean {
    return this.#offline;
  }

  get #down(): boolean {
    return this.#blackholed || this.#offline;
  }

  /** Sends `packet` one way; `deliver` runs at the far end when (and if) it arrives. */
  transmit(
    direction: Direction,
    packet: Packet,
    connection: LinkedConnection,
    deliver: () => void,
  ): void {
    if (connection.aborted) return;
    if (this.#severed.has(connection)) {
      this.#record(direction, packet, true);
      return;
    }
    const flight: InFlight = { direction, packet, connection, deliver };
    if (this.#down) {
      this.#hold(flight);
      return;
    }
    let extra = 0;
    if (packet.kind === "text") {
      const info = { text: packet.text, ...frameType(packet.text) };
      for (const predicate of this.#drops[direction]) {
        if (predicate(info)) {
          this.#record(direction, packet, true);
          return;
        }
      }
      for (const rule of this.#delays[direction]) if (rule.predicate(info)) extra += rule.ms;
    }
    const due = Math.max(this.#fc.now + this.#latency[direction] + extra, this.#lastDue[direction]);
    this.#lastDue[direction] = due;
    this.#inFlight.add(flight);
    this.#scheduler.at(due, () => {
      // Not in flight any more: the link went down meanwhile and holds (or lost) it.
      if (!this.#inFlight.delete(flight) || connection.aborted) return;
      this.#record(direction, packet, false);
      deliver();
    });
  }

  /** The link just went down: what is on the path is held (or lost) with the rest, in order. */
  #catchInFlight(): void {
    for (const flight of this.#inFlight) {
      if (!flight.connection.aborted) this.#hold(flight);
    }
    this.#inFlight.clear();
  }

  /** While down: keep it for the heal, or (a discarding blackhole, not offline) lose it for good. */
  #hold(flight: InFlight): void {
    if (this.#blackholed && this.#discard && !this.#offline) {
      this.#severed.add(flight.connection);
      this.#record(flight.direction, flight.packet, true);
      return;
    }
    this.#held.push(flight);
  }

  #record(direction: Direction, packet: Packet, dropped: boolean): void {
    if (packet.kind === "text") {
      this.#timeline.add({
        kind: "frame",
        client: this.#name,
        direction,
        type: frameType(packet.text).type,
        text: packet.text,
        dropped,
      });
    } else {
      this.#timeline.add({
        kind: "link",
        client: this.#name,
        what: `${dropped ? "LOST " : ""}${describePacket(packet, direction === "toServer")}`,
      });
    }
  }

  #control(what: string): void {
    this.#timeline.add({ kind: "control", client: this.#name, what });
  }

  #release(): void {
    if (this.#down) return;
    for (const flight of this.#held.splice(0)) {
      this.transmit(flight.direction, flight.packet, flight.connection, flight.deliver);
    }
  }

  setOffline(offline: boolean): void {
    const wasDown = this.#down;
    this.#offline = offline;
    if (!wasDown && this.#down) this.#catchInFlight();
    this.#release();
  }

  blackhole(options: BlackholeOptions = {}): void {
    const mode = checkWhileBlackholed(options.whileBlackholed ?? "hold");
    this.#control(mode === "hold" ? "blackhole" : "blackhole (discard)");
    const wasDown = this.#down;
    this.#blackholed = true;
    this.#discard = mode === "discard";
    if (!wasDown) this.#catchInFlight();
  }

  heal(): void {
    this.#control("heal");
    this.#blackholed = false;
    this.#release();
  }

  latency(ms: number, direction?: Direction): void {
    checkMs("latency", ms);
    this.#control(`latency ${ms} ms ${direction ?? "both ways"}`);
    if (direction === undefined || direction === "toServer") this.#latency.toServer = ms;
    if (direction === undefined || direction === "toClient") this.#latency.toClient = ms;
  }

  drop(direction: Direction, predicate: FramePredicate = all): () => void {
    this.#control(`drop ${direction}`);
    const rule = (frame: Parameters<FramePredicate>[0]) => predicate(frame);
    this.#drops[direction].add(rule);
    return () => {
      this.#control(`stop dropping ${direction}`);
      this.#drops[direction].delete(rule);
    };
  }

  delay(direction: Direction, ms: number, predicate: FramePredicate = all): () => void {
    checkMs("delay", ms);
    this.#control(`delay ${direction} by ${ms} ms`);
    const rule: DelayRule = { ms, predicate };
    this.#delays[direction].add(rule);
    return () => {
      this.#control(`stop delaying ${direction}`);
      this.#delays[direction].delete(rule);
    };
  }

  abort(): void {
    this.#control("abort");
    for (const connection of [...this.connections]) connection.abort();
  }
}

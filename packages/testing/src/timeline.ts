import { rethrowLater } from "@heartline/protocol";

/** Which way a frame went. */
export type Direction = "toServer" | "toClient";

interface EntryBase {
  /** Fake time (the harness clock's `now`) when it happened. */
  readonly at: number;
  /** The client concerned (its `name`), or undefined for the server as a whole. */
  readonly client: string | undefined;
}

/** A data frame delivered (or, with `dropped`, lost to a `drop()` rule). */
export interface FrameEntry extends EntryBase {
  readonly kind: "frame";
  readonly direction: Direction;
  /** The frame's `type` field (`ping`, `welcome`…), or undefined if it is not a JSON object with one. */
  readonly type: string | undefined;
  readonly text: string;
  readonly dropped: boolean;
}

/** Connection-level happenings: connect, open, refused, close frames, abrupt ends. */
export interface LinkEntry extends EntryBase {
  readonly kind: "link";
  readonly what: string;
}

/** A server event (`connection`, `disconnect`, `message`, `error`). */
export interface ServerEntry extends EntryBase {
  readonly kind: "server";
  readonly event: string;
  readonly payload: unknown;
}

/** A client event (`state`, `open`, `disconnect`, `reconnecting`, `error`). */
export interface ClientEntry extends EntryBase {
  readonly kind: "client";
  readonly event: string;
  readonly payload: unknown;
}

/** A fault or page-life control the test used. */
export interface ControlEntry extends EntryBase {
  readonly kind: "control";
  readonly what: string;
}

/** One line of the timeline (`kind`: frame, link, server, client or control). */
export type TimelineEntry = FrameEntry | LinkEntry | ServerEntry | ClientEntry | ControlEntry;

/** Everything that happened, with fake times; printable. */
export interface Timeline {
  readonly entries: readonly TimelineEntry[];
  /** The fake time the harness started at; printed times are relative to it. */
  readonly startedAt: number;
  /** The timeline as text, one line per entry (`+ms  who  what`). */
  format(): string;
  /** Writes `format()` to stderr (so it shows next to a failing test). */
  print(): void;
}

function describe(entry: TimelineEntry): string {
  switch (entry.kind) {
    case "frame": {
      const arrow = entry.direction === "toServer" ? "→ server" : "← server";
      return `${arrow} ${entry.dropped ? "DROPPED " : ""}${entry.text}`;
    }
    case "link":
      return entry.what;
    case "control":
      return `[${entry.what}]`;
    case "server":
    case "client":
      return `${entry.kind} ${entry.event} ${brief(entry.payload)}`;
  }
}

function brief(payload: unknown): string {
  if (payload instanceof Error) {
    return `${(payload as { code?: string }).code ?? payload.name}: ${payload.message}`;
  }
  try {
    return JSON.stringify(payload) ?? "";
  } catch {
    return String(payload);
  }
}

export class TimelineRecorder implements Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly #listeners = new Set<(entry: TimelineEntry) => void>();

  constructor(
    readonly startedAt: number,
    private readonly now: () => number,
  ) {}

  add(entry: DistributiveOmit<TimelineEntry, "at">): TimelineEntry {
    const full = { ...entry, at: this.now() } as TimelineEntry;
    this.entries.push(full);
    for (const listener of [...this.#listeners]) {
      try {
        listener(full);
      } catch (cause) {
        // Heartline's one policy (`listenerThrew`): the timeline has no `error`
        // event, so a throw is rethrown on a microtask, and recording goes on.
        rethrowLater(cause);
      }
    }
    return full;
  }

  /** Called for every entry added from now on; returns the function that stops it. */
  watch(listener: (entry: TimelineEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  format(): string {
    const width = Math.max(6, ...this.entries.map((e) => e.client?.length ?? 6));
    const lines = this.entries.map((entry) => {
      const time = `+${entry.at - this.startedAt}`.padStart(9);
      const who = (entry.client ?? "server").padEnd(width);
      return `${time} ms  ${who}  ${describe(entry)}`;
    });
    return [`timeline (${this.entries.length} entries, fake ms since start):`, ...lines].join("\n");
  }

  print(): void {
    process.stderr.write(`${this.format()}\n`);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The `type` of a JSON frame, if it has one. */
export function frameType(text: string): { type: string | undefined; message: unknown } {
  try {
    const message: unknown = JSON.parse(text);
    const type =
      typeof message === "object" && message !== null && "type" in message
        ? (message as { type: unknown }).type
        : undefined;
    return { type: typeof type === "string" ? type : undefined, message };
  } catch {
    return { type: undefined, message: undefined };
  }
}

import type { Gate } from "./clocks.js";

/** A page's document as the client's page-life listeners see it. */
class FakeDocument extends EventTarget {
  visibilityState: "visible" | "hidden" = "visible";
  get hidden(): boolean {
    return this.visibilityState === "hidden";
  }
  wasDiscarded = false;
}

class FakeWindow extends EventTarget {
  readonly navigator = { onLine: true };
}

/**
 * One client's page: a `document` and a `window` of its own. The client
 * finds its page through the `document`/`window` globals, which it reads
 * once, in `connect()`: the harness sets them to this page for exactly that
 * synchronous call and puts back what was there (so clients in one harness
 * each have their own page, and nothing global is left patched).
 */
export class FakePage {
  readonly document = new FakeDocument();
  readonly window = new FakeWindow();

  constructor(readonly gate: Gate) {}

  /** Runs `fn` with this page as the global `document` and `window`. */
  asGlobal<T>(fn: () => T): T {
    const globals = globalThis as { document?: unknown; window?: unknown };
    const had = { document: "document" in globals, window: "window" in globals };
    const saved = { document: globals.document, window: globals.window };
    globals.document = this.document;
    globals.window = this.window;
    try {
      return fn();
    } finally {
      if (had.document) globals.document = saved.document;
      else delete globals.document;
      if (had.window) globals.window = saved.window;
      else delete globals.window;
    }
  }

  /** Dispatches a page event to the client (held while the page is frozen, as a real one would be). */
  dispatch(target: "document" | "window", type: string): void {
    this.gate.run(() => this[target].dispatchEvent(new Event(type)));
  }

  setVisibility(state: "visible" | "hidden"): void {
    this.gate.run(() => {
      this.document.visibilityState = state;
      this.document.dispatchEvent(new Event("visibilitychange"));
    });
  }

  setOnline(online: boolean): void {
    this.gate.run(() => {
      this.window.navigator.onLine = online;
      this.window.dispatchEvent(new Event(online ? "online" : "offline"));
    });
  }

  /** `freeze` is the page's last task; then nothing runs until `resume()`. */
  freeze(): void {
    this.gate.run(() => this.document.dispatchEvent(new Event("freeze")));
    this.gate.freeze();
  }

  /** `resume` fires first, then everything that came due while frozen, in order. */
  resume(): void {
    if (!this.gate.frozen) return;
    // The resume event is the thawed page's first task; then what waited.
    this.document.dispatchEvent(new Event("resume"));
    this.gate.thaw();
  }
}

/**
 * The page events after which timers cannot be trusted, with the target each
 * fires on. Each of them triggers an immediate liveness check:
 * - `visibilitychange`: a hidden tab's timers are throttled (once a minute
 *   after five minutes hidden in Chrome), so coming back may be long overdue;
 * - `freeze` / `resume` (Page Lifecycle API): a frozen tab runs no timer at
 *   all; `freeze` gets one last ping out, `resume` checks on waking;
 * - `pageshow`: a page restored from the back/forward cache;
 * - `online` / `offline`: the network changed under an open socket, which
 *   may be dead without a close event for minutes.
 */
const pageEvents = [
  ["document", "visibilitychange"],
  ["document", "freeze"],
  ["document", "resume"],
  ["window", "pageshow"],
  ["window", "online"],
  ["window", "offline"],
] as const;

/** A page-life event the client reacts to with a liveness check (`visibilitychange`, `freeze`, `online`…). */
export type PageEvent = (typeof pageEvents)[number][1];

interface Target {
  addEventListener(type: string, listener: (event: { type: string }) => void): void;
  removeEventListener(type: string, listener: (event: { type: string }) => void): void;
}

/**
 * Listens to the page's life where there is a page (`document`/`window`
 * globals, read now so tests can provide them). Returns `stop`, and
 * `offline`, true while that page's `navigator.onLine` is false. Outside a
 * browser it listens to nothing and is never offline.
 */
export function watchPage(onEvent: (type: PageEvent) => void): {
  stop(): void;
  offline(): boolean;
} {
  const globals = globalThis as {
    document?: Target;
    window?: Target & { navigator?: { onLine?: boolean } };
  };
  const page = globals.window;
  const listener = (event: { type: string }) => onEvent(event.type as PageEvent);
  const added: [Target, string][] = [];
  for (const [where, type] of pageEvents) {
    const target = globals[where];
    if (typeof target?.addEventListener !== "function") continue;
    target.addEventListener(type, listener);
    added.push([target, type]);
  }
  return {
    stop() {
      for (const [target, type] of added) target.removeEventListener(type, listener);
    },
    offline: () => page?.navigator?.onLine === false,
  };
}

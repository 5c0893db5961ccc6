import type { ClientSnapshot } from "./types.js";

/**
 * Keeps one frozen snapshot and replaces it only when a field differs, so its
 * identity says whether anything changed (what React's `useSyncExternalStore`
 * compares). `read` gives the fields now; all are primitives, so a shallow
 * comparison is exact. Returns the getter; `changed()` calls `notify` when the
 * snapshot is not the one subscribers were last told of.
 */
export function createSnapshot(
  read: () => ClientSnapshot,
  notify: () => void,
): { get(): ClientSnapshot; changed(): void } {
  let current = Object.freeze(read());
  const get = (): ClientSnapshot => {
    const next = read();
    for (const key in next) {
      if (next[key as keyof ClientSnapshot] !== current[key as keyof ClientSnapshot]) {
        current = Object.freeze(next);
        break;
      }
    }
    return current;
  };
  // What subscribers last heard of: a `getSnapshot()` call in between must not hide a change.
  let told = current;
  return {
    get,
    changed() {
      if (get() === told) return;
      told = current;
      notify();
    },
  };
}

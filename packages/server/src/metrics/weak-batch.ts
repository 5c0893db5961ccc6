import type { BatchObservableCallback, Meter, Observable } from "@opentelemetry/api";

/**
 * Registers one batch callback that reads `target` at collection time,
 * holding it only through a WeakRef: a meter provider that outlives the
 * server must not keep it alive. Once the target is collected, the first
 * collection after that removes the callback.
 */
export function observeWhileAlive<T extends object>(
  meter: Meter,
  target: T,
  observed: Observable[],
  read: (target: T, result: Parameters<BatchObservableCallback>[0]) => void,
): void {
  const ref = new WeakRef(target);
  const observe: BatchObservableCallback = (result) => {
    const live = ref.deref();
    if (live === undefined) {
      meter.removeBatchObservableCallback(observe, observed);
      return;
    }
    read(live, result);
  };
  meter.addBatchObservableCallback(observe, observed);
}

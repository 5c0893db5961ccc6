import type { Clock, TimerHandle } from "@heartline/protocol";

/**
 * The worker's whole program: run timers for the page and post back their
 * ids. Timers in a dedicated worker are not subject to the page's
 * intensive throttling, and the callback reaches the page as a message task.
 */
const WORKER_SOURCE = `const t=new Map;onmessage=e=>{const[id,ms]=e.data;if(ms<0){clearTimeout(t.get(id));t.delete(id)}else t.set(id,setTimeout(()=>{t.delete(id);postMessage(id)},ms))}`;

/** A `Clock` whose timers run in a dedicated Web Worker; `terminate()` stops the worker. */
export interface WorkerClock extends Clock {
  /** Stops the worker; pending timers never fire. */
  terminate(): void;
}

/**
 * A `Clock` whose timers run in a Blob-URL Web Worker (Supabase Realtime's
 * fix for throttled heartbeats). Pass it as the client's `clock`. A separate
 * entry point (`@heartline/client/worker-clock`), so it costs nothing unless
 * imported. Browser only; a page whose CSP forbids `blob:` workers cannot use it.
 */
export function createWorkerClock(): WorkerClock {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  const worker = new Worker(url);
  const callbacks = new Map<number, () => void>();
  let nextId = 1;
  worker.onmessage = (event: MessageEvent<number>) => {
    const callback = callbacks.get(event.data);
    callbacks.delete(event.data);
    callback?.();
  };
  return {
    now: () => Date.now(),
    setTimeout(callback, ms): TimerHandle {
      const id = nextId++;
      callbacks.set(id, callback);
      worker.postMessage([id, Math.max(0, ms)]);
      return id;
    },
    clearTimeout(handle) {
      if (!callbacks.delete(handle as number)) return;
      worker.postMessage([handle, -1]);
    },
    terminate() {
      worker.terminate();
      URL.revokeObjectURL(url);
      callbacks.clear();
    },
  };
}

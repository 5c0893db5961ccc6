import { listenerThrew } from "@heartline/protocol";
import { ClientErrorCode, HeartlineClientError } from "./errors.js";

type Listener<T> = (payload: T) => void;

export interface Emitter<E> {
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void;
  emit<K extends keyof E>(event: K, payload: E[K]): void;
}

/**
 * A tiny typed event emitter. A listener that throws must not break the
 * client's state machine nor the other listeners: Heartline's one policy
 * (`listenerThrew` in @heartline/protocol) reports it on `error` as
 * `listener_threw`, or rethrows it on a microtask when nobody takes it.
 */
export function createEmitter<E extends { error: HeartlineClientError }>(): Emitter<E> {
  const listeners = new Map<keyof E, Set<Listener<never>>>();
  return {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener as Listener<never>);
      return () => {
        set.delete(listener as Listener<never>);
      };
    },
    emit(event, payload) {
      const set = listeners.get(event);
      if (!set) return;
      // A copy: a listener may unsubscribe itself or add others while we loop.
      for (const listener of [...set]) {
        try {
          (listener as Listener<typeof payload>)(payload);
        } catch (cause) {
          listenerThrew(
            cause,
            event === "error" ? undefined : (listeners.get("error") as Set<Listener<E["error"]>>),
            () =>
              new HeartlineClientError(
                ClientErrorCode.ListenerThrew,
                `a "${String(event)}" listener threw`,
                { cause },
              ),
          );
        }
      }
    },
  };
}

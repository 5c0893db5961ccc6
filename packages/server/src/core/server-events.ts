import { listenerThrew } from "@heartline/protocol";
import type { Connection } from "./connection-api.js";
import { HeartlineError, ServerErrorCode } from "./errors.js";
import type { ServerEventName, ServerListeners } from "./listeners.js";

type ListenerTable = { [E in ServerEventName]: ReadonlyArray<ServerListeners[E]> };
type ErrorListener<TServer, TAuth> = (
  error: HeartlineError,
  conn: Connection<TServer, TAuth> | undefined,
) => void;

/**
 * The server's events and its error policy, in one place: the listener
 * table (copy on write), `emit`, and what happens when a listener throws.
 * That last one is the policy every Heartline package shares
 * (`listenerThrew` in @heartline/protocol): reported on `error` as
 * `listener_threw`, else rethrown on a microtask; never swallowed, never
 * disturbing the core.
 */
export class ServerEvents<TClient, TServer, TAuth> {
  #listeners: ListenerTable = {
    connection: [],
    message: [],
    disconnect: [],
    resumed: [],
    resume: [],
    sessionEnd: [],
    sessionMoved: [],
    sessionAdopted: [],
    error: [],
    upgradeRejected: [],
  };

  /** Registers the `on:` option's listeners, so none misses the first event. */
  constructor(on: Partial<ServerListeners<TClient, TServer, TAuth>> | undefined) {
    if (on === undefined) return;
    for (const name of Object.keys(this.#listeners) as ServerEventName[]) {
      const listener = on[name];
      if (listener) this.on(name, listener as never);
    }
  }

  on<E extends ServerEventName>(
    event: E,
    listener: ServerListeners<TClient, TServer, TAuth>[E],
  ): () => void {
    // Copy on write: an emit already iterating keeps its own array.
    const table = this.#listeners as Record<ServerEventName, ReadonlyArray<unknown>>;
    table[event] = [...table[event], listener];
    return () => {
      table[event] = table[event].filter((l) => l !== listener);
    };
  }

  emit<E extends ServerEventName>(
    event: E,
    a: Parameters<ServerListeners<TClient, TServer, TAuth>[E]>[0],
    b: Parameters<ServerListeners<TClient, TServer, TAuth>[E]>[1],
    c?: unknown,
  ): void {
    const listeners = this.#listeners[event] as ReadonlyArray<
      (a: unknown, b: unknown, c: unknown) => void
    >;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(a, b, c);
      } catch (cause) {
        // The connection the event is about, if any, goes with the report.
        const conn =
          event === "upgradeRejected" ||
          event === "sessionEnd" ||
          event === "sessionMoved" ||
          event === "sessionAdopted"
            ? undefined
            : event === "disconnect" || event === "resumed" || event === "resume"
              ? b
              : a;
        listenerThrew(
          cause,
          this.#listeners.error as Iterable<ErrorListener<TServer, TAuth>>,
          (c) =>
            new HeartlineError(ServerErrorCode.ListenerThrew, `a "${event}" listener threw`, {
              cause: c,
            }),
          conn as Connection<TServer, TAuth> | undefined,
        );
      }
    }
  }

  /** Error codes already logged for want of an `error` listener (one line per code). */
  readonly #unheard = new Set<string>();

  /**
   * An error on the `error` event, under the same policy: every `error`
   * listener hears it; if one throws, the error and what it threw are
   * rethrown on a microtask (never swallowed). With no `error` listener (a
   * server may run without one) it is logged with `console.error`, once per
   * code: nothing fails without a trace, and a flood of one failure does
   * not flood the log.
   */
  reportError(error: HeartlineError, conn?: Connection<TServer, TAuth>): void {
    const listeners = this.#listeners.error as ReadonlyArray<ErrorListener<TServer, TAuth>>;
    if (listeners.length > 0) {
      listenerThrew(error, listeners, () => error, conn);
      return;
    }
    if (this.#unheard.has(error.code)) return;
    this.#unheard.add(error.code);
    console.error(
      `heartline: ${error.code}: ${error.message} (no "error" listener; later "${error.code}" errors are not logged)`,
      error.cause ?? "",
    );
  }

  /** A warning: to the `error` listeners if there are any, else one line on the console. */
  warn(warning: HeartlineError): void {
    if (this.#listeners.error.length > 0) this.reportError(warning);
    else console.warn(`heartline: ${warning.message}`);
  }
}

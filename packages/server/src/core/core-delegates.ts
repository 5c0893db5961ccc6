import type { ServerCore } from "./server-core.js";

/** The part of every adapter's public API that is the core's own, passed straight through. */
export type CoreDelegates<TClient, TServer, TAuth, TRequest> = Pick<
  ServerCore<TClient, TServer, TAuth, TRequest>,
  "accepting" | "state" | "broadcast" | "session" | "connections" | "stats" | "on"
>;

/**
 * `own` (an adapter's own members: `close`, `listening`, …) plus the core's
 * pass-through members, written once so that every adapter (ws, Bun, Deno)
 * offers the same ones. `accepting` and `state` stay live getters.
 */
export function withCoreDelegates<TOwn extends object, TClient, TServer, TAuth, TRequest>(
  core: ServerCore<TClient, TServer, TAuth, TRequest>,
  own: TOwn,
): TOwn & CoreDelegates<TClient, TServer, TAuth, TRequest> {
  const delegates: CoreDelegates<TClient, TServer, TAuth, TRequest> = {
    get accepting() {
      return core.accepting;
    },
    get state() {
      return core.state;
    },
    broadcast: (data, filter) => core.broadcast(data, filter),
    session: (sessionId) => core.session(sessionId),
    connections: () => core.connections(),
    stats: () => core.stats(),
    on: (event, listener) => core.on(event, listener),
  };
  // Descriptors, not a spread: a spread would read the getters once.
  return Object.defineProperties(own, Object.getOwnPropertyDescriptors(delegates)) as TOwn &
    CoreDelegates<TClient, TServer, TAuth, TRequest>;
}

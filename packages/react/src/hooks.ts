import type { ClientSnapshot, HeartlineClient } from "@heartline/client";
import { useCallback, useContext, useMemo, useSyncExternalStore } from "react";
import { HeartlineReactError, ReactErrorCode } from "./errors.js";
import { HeartlineContext } from "./provider.js";

/** The defaults of the hooks' options. */
export const reactDefaults = Object.freeze({
  /** `useHeartlineMessages`: the newest messages it keeps. */
  limit: 100,
});

/** The client of the nearest `<HeartlineProvider>`; throws `no_provider` outside one. */
export function useHeartline<TClientData = unknown, TServerData = unknown>(): HeartlineClient<
  TClientData,
  TServerData
> {
  const client = useContext(HeartlineContext);
  if (client === null) {
    throw new HeartlineReactError(
      ReactErrorCode.NoProvider,
      "a Heartline hook ran outside <HeartlineProvider>",
    );
  }
  return client;
}

/**
 * The connection's status to render: `client.getSnapshot()` through
 * `useSyncExternalStore`, so a component re-renders exactly when a field
 * changes (state, reason, retryAt, queued, …) and never tears.
 */
export function useHeartlineStatus(): ClientSnapshot {
  const client = useHeartline();
  return useSyncExternalStore(client.subscribe, client.getSnapshot, client.getSnapshot);
}

/**
 * The newest `limit` messages (default 100) received while the component is
 * mounted, oldest first: a new array for each message, the same one
 * otherwise. What arrived before it mounted is not in it; for every
 * message, listen with `useHeartline().on("message", …)` in an effect.
 */
export function useHeartlineMessages<TServerData = unknown>(
  options: { limit?: number } = {},
): readonly TServerData[] {
  const client = useHeartline<unknown, TServerData>();
  const limit = options.limit ?? reactDefaults.limit;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new HeartlineReactError(ReactErrorCode.InvalidOption, "limit must be an integer ≥ 1");
  }
  const store = useMemo(() => {
    let messages: readonly TServerData[] = [];
    return {
      get: () => messages,
      subscribe: (changed: () => void) =>
        client.on("message", (data) => {
          messages = [...messages, data].slice(-limit);
          changed();
        }),
    };
  }, [client, limit]);
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/**
 * `client.send`, stable for the provider's client (safe in dependency
 * arrays): true when sent or queued, false when refused (and reported).
 */
export function useHeartlineSend<TClientData = unknown>(): (data: TClientData) => boolean {
  const client = useHeartline<TClientData>();
  return useCallback((data: TClientData) => client.send(data), [client]);
}

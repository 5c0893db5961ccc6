import { type ClientOptions, createClient, type HeartlineClient } from "@heartline/client";
import { createContext, createElement, type ReactNode, useEffect, useState } from "react";
import { HeartlineReactError, ReactErrorCode } from "./errors.js";

/**
 * The client the nearest `<HeartlineProvider>` holds; `null` outside one.
 * Read it with `useHeartline()`.
 */
// biome-ignore lint/suspicious/noExplicitAny: one context for every client type; the hooks narrow it.
export const HeartlineContext = createContext<HeartlineClient<any, any> | null>(null);

/** `client`: one you made (e.g. in a module); `options`: the provider makes it, once per mount. */
export type HeartlineProviderProps<TClientData = unknown, TServerData = unknown> = {
  children?: ReactNode;
} & (
  | { client: HeartlineClient<TClientData, TServerData>; options?: never }
  | { options: ClientOptions<TClientData, TServerData>; client?: never }
);

/** How many mounted providers hold each client connected. */
const holders = new WeakMap<HeartlineClient<unknown, unknown>, number>();

/**
 * Keeps `client` connected while at least one provider holds it. The last
 * release closes it one microtask later, not at once: StrictMode unmounts
 * and mounts again in the same task, and that second mount takes the hold
 * back before the close would run, so the one socket stays (no second
 * socket, no "closed before the connection is established"). Returns the
 * release.
 */
function hold(client: HeartlineClient<unknown, unknown>): () => void {
  const count = holders.get(client) ?? 0;
  holders.set(client, count + 1);
  // A no-op unless the client is closed: a remount finds it still connecting or open.
  if (count === 0) client.connect();
  return () => {
    holders.set(client, (holders.get(client) ?? 1) - 1);
    queueMicrotask(() => {
      if (holders.get(client) === 0) client.close();
    });
  };
}

/**
 * Holds one Heartline connection for the components under it: connects
 * when it mounts and closes when it unmounts (a microtask later, so
 * StrictMode's remount keeps the same socket). Given a new `client` (a hot
 * module update that made a new one), it closes the old client and
 * connects the new one: one live connection, however many updates.
 */
export function HeartlineProvider<TClientData = unknown, TServerData = unknown>(
  props: HeartlineProviderProps<TClientData, TServerData>,
): ReactNode {
  // Made once per mount; a later `options` object is not read (remount with a `key` to change it).
  const [own] = useState(() => {
    if (props.client !== undefined) return undefined;
    if (typeof props.options !== "object" || props.options === null) {
      throw new HeartlineReactError(
        ReactErrorCode.InvalidOption,
        "HeartlineProvider needs a client or options",
      );
    }
    return createClient(props.options);
  });
  const client = (props.client ?? own) as HeartlineClient<unknown, unknown>;
  useEffect(() => hold(client), [client]);
  return createElement(HeartlineContext, { value: client }, props.children);
}

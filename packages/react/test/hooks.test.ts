// @vitest-environment happy-dom
// The provider and hooks against a real server core and real clients on the
// @heartline/testing fake clock, rendered by react-dom in happy-dom: one
// connection under StrictMode, one live connection across client swaps (a
// hot update), the status snapshot, the message list, the stable send.
import type { HeartlineClient } from "@heartline/client";
import { createHarness, type Harness } from "@heartline/testing";
import { act, createElement, type ReactNode, StrictMode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  HeartlineProvider,
  useHeartlineMessages,
  useHeartlineSend,
  useHeartlineStatus,
} from "../src/index.js";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let harness: Harness;
let root: Root;
let container: HTMLElement;
/** Every server connection that opened, by session id. */
let opened: string[];

beforeEach(async () => {
  harness = await createHarness({ server: { intervalMs: 1000 } });
  opened = [];
  harness.server.on("connection", (conn: { sessionId: string }) => opened.push(conn.sessionId));
  container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
});

afterEach(async () => {
  await act(async () => root.unmount());
  container.remove();
  await harness.close();
});

/** Renders `tree` (inside StrictMode) and lets React's effects and the microtasks run. */
async function render(tree: ReactNode): Promise<void> {
  await act(async () => root.render(createElement(StrictMode, null, tree)));
}

/** Lets `ms` of fake time pass for the server and clients, with React's updates flushed. */
async function advance(ms: number): Promise<void> {
  await act(async () => harness.advance(ms));
}

/** Renders `tree` into `into`, keeping what it throws (act rethrows a render error). */
async function renderCatching(into: Root, tree: ReactNode, errors: unknown[]): Promise<void> {
  try {
    await act(async () => into.render(tree));
  } catch (error) {
    errors.push(error);
  }
}

const openCount = (): number => [...harness.server.connections()].length;

/** What the test components below saw; reset before each test. */
const seen = {
  renders: 0,
  states: [] as string[],
  sends: new Set<(data: string) => boolean>(),
  lists: [] as Array<readonly string[]>,
};
beforeEach(() => {
  seen.renders = 0;
  seen.states = [];
  seen.sends.clear();
  seen.lists = [];
});

/** Renders the status it reads as text, and counts its renders. */
function Status(): ReactNode {
  const status = useHeartlineStatus();
  seen.renders++;
  seen.states.push(status.state);
  return `${status.state} ${status.sessionId ?? "-"} queued=${status.queued}`;
}

/** A hook outside any provider. */
function Orphan(): ReactNode {
  useHeartlineStatus();
  return null;
}

/** The newest two messages as text; records its lists and send functions. */
function Chat(): ReactNode {
  const messages = useHeartlineMessages<string>({ limit: 2 });
  const send = useHeartlineSend<string>();
  seen.sends.add(send);
  seen.lists.push(messages);
  return messages.join(",");
}

function BadLimit(): ReactNode {
  useHeartlineMessages({ limit: 0 });
  return null;
}

describe("HeartlineProvider", () => {
  it("opens one socket under StrictMode's mount, unmount and mount, and closes it on unmount", async () => {
    const client = await harness.client({ name: "app", connect: false });
    await render(createElement(HeartlineProvider, { client }, null));
    await advance(0);
    expect(client.state).toBe("open");
    expect(opened).toEqual(["session-1"]);
    expect(
      harness.timeline.entries.filter((e) => e.kind === "server" && e.event === "disconnect"),
    ).toEqual([]);
    await act(async () => root.unmount());
    expect(client.state).toBe("closed");
    const gone = await harness.waitFor.disconnect({ client: "app" });
    expect(gone).toMatchObject({ reason: "client_closed", code: 1000 });
    root = createRoot(container);
  });

  it("keeps one live connection across four client swaps (a hot update making a new client each time)", async () => {
    const clients: HeartlineClient[] = [];
    for (let edit = 0; edit <= 4; edit++) {
      const client = await harness.client({ name: `edit-${edit}`, connect: false });
      clients.push(client);
      await render(createElement(HeartlineProvider, { client }, null));
      await advance(0);
      expect(openCount()).toBe(1);
    }
    expect(clients.map((c) => c.state)).toEqual(["closed", "closed", "closed", "closed", "open"]);
    expect(opened).toHaveLength(5);
  });

  it("makes its own client from options, once per mount", async () => {
    // The options-made client cannot use the harness transport, so only what the provider does is checked.
    await render(
      createElement(
        HeartlineProvider,
        { options: { url: "ws://127.0.0.1:9/ws", reconnect: false, WebSocket: NeverOpens } },
        createElement(Status),
      ),
    );
    expect(NeverOpens.made).toBe(1);
    expect(seen.states.at(-1)).toBe("connecting");
  });
});

/** A WebSocket that stays connecting; counts how many were made. */
class NeverOpens {
  static made = 0;
  readyState = 0;
  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;
  constructor() {
    NeverOpens.made++;
  }
  send(): void {}
  close(): void {}
}

describe("useHeartlineStatus", () => {
  it("renders the snapshot, and re-renders only when it changes", async () => {
    const client = await harness.client({ name: "app", connect: false });
    await render(createElement(HeartlineProvider, { client }, createElement(Status)));
    // The first beat gives the first rtt sample (a change); on the fake clock it stays 0 after.
    await advance(1000);
    expect(container.textContent).toBe("open session-1 queued=0");
    const after = seen.renders;
    // Ten more beats: pings and pongs change nothing the snapshot shows, so no render at all.
    await advance(10 * 1000);
    expect(container.textContent).toBe("open session-1 queued=0");
    expect(seen.renders).toBe(after);
    // The server goes: the status says so.
    await act(async () => {
      for (const conn of harness.server.connections()) conn.close(4000);
    });
    await advance(0);
    expect(container.textContent).toMatch(/^(reconnecting|connecting|open) /);
    expect(seen.renders).toBeGreaterThan(after);
  });

  it("throws no_provider outside a provider", async () => {
    const errors: unknown[] = [];
    const orphanRoot = createRoot(document.createElement("div"), {
      onUncaughtError: (error) => errors.push(error),
    });
    await renderCatching(orphanRoot, createElement(Orphan), errors);
    expect(errors[0]).toMatchObject({ code: "no_provider" });
    await act(async () => orphanRoot.unmount());
  });
});

describe("useHeartlineMessages and useHeartlineSend", () => {
  it("lists the newest messages (within limit) and sends through a stable function", async () => {
    const client = await harness.client<string, string>({ name: "app", connect: false });
    await render(createElement(HeartlineProvider, { client }, createElement(Chat)));
    await advance(0);
    expect(container.textContent).toBe("");
    const received: unknown[] = [];
    harness.server.on("message", (_conn: unknown, data: unknown) => received.push(data));
    const [send] = seen.sends;
    await act(async () => {
      expect(send!("hello")).toBe(true);
    });
    await advance(0);
    expect(received).toEqual(["hello"]);
    for (const text of ["a", "b", "c"]) harness.server.broadcast(text);
    await advance(0);
    expect(container.textContent).toBe("b,c");
    // Re-renders with nothing new keep the same array and the same send.
    seen.lists = [];
    await render(createElement(HeartlineProvider, { client }, createElement(Chat)));
    expect(new Set(seen.lists).size).toBe(1);
    expect(seen.sends.size).toBe(1);
  });

  it("refuses a limit that is not an integer ≥ 1", async () => {
    const client = await harness.client({ name: "app", connect: false });
    const errors: unknown[] = [];
    const badRoot = createRoot(document.createElement("div"), {
      onUncaughtError: (error) => errors.push(error),
    });
    await renderCatching(
      badRoot,
      createElement(HeartlineProvider, { client }, createElement(BadLimit)),
      errors,
    );
    expect(errors[0]).toMatchObject({
      code: "invalid_option",
      message: "limit must be an integer ≥ 1",
    });
    await act(async () => badRoot.unmount());
  });
});

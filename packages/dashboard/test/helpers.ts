import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "@heartline/protocol";
import FakeTimers from "@sinonjs/fake-timers";

/** An un-installed fake clock; real I/O keeps running. */
export function fakeClock(): { fc: FakeTimers.Clock; clock: Clock } {
  const fc = FakeTimers.createClock(1_000_000);
  return {
    fc,
    clock: {
      now: () => fc.now,
      setTimeout: (callback, ms) => fc.setTimeout(callback, ms),
      clearTimeout: (handle) => fc.clearTimeout(handle as FakeTimers.TimerId),
    },
  };
}

// The one fake transport and the one bounded wait for I/O live in @heartline/testing.
export { FakeServerTransport, until } from "@heartline/testing";

/** node:http on 127.0.0.1, port 0. */
export async function listen(handler: RequestListener): Promise<{ http: Server; base: string }> {
  const http = createHttpServer(handler);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return { http, base: `http://127.0.0.1:${port}` };
}

export function close(http: Server): Promise<void> {
  return new Promise((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
}

/** Reads server-sent events from `url` as they come; `next()` waits for the next one. */
export async function openStream(url: string) {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const queue: Array<{ event: string; data: unknown }> = [];
  let buffer = "";
  const next = async (): Promise<{ event: string; data: unknown }> => {
    for (;;) {
      const item = queue.shift();
      if (item !== undefined) return item;
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) queue.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf("\n\n");
      }
    }
  };
  return {
    response,
    next,
    close: () => {
      abort.abort();
      reader.cancel().catch(() => {});
    },
  };
}

// Awaiting a Heartline client's events with a bounded wait.
import type { ClientEvents, HeartlineClient } from "@heartline/client";

/** The next `event` (registered now) that `match` accepts, and the Date.now() it came at. */
export function nextEvent<K extends keyof ClientEvents>(
  client: HeartlineClient,
  event: K,
  match: (payload: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<{ payload: ClientEvents[K]; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for the client's ${event}`));
    }, timeoutMs);
    const off = client.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      resolve({ payload, at: Date.now() });
    });
  });
}

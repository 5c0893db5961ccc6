// What the plain Heartline bench servers (heartline.mjs on Node, and
// heartline-runtime.mjs on Bun and Deno) count through their listeners, so
// every runtime runs the same listener code.
import { DisconnectReason } from "@heartline/protocol";

/** `on` for `createServer`, and `getStats` for `announceReady`. */
export function countingListeners(intervalMs) {
  let open = 0;
  let timeouts = 0;
  /** Server-side lateness of each timeout report: now − lastSeenAt − timeoutMs (a cross-check). */
  const lateness = [];
  return {
    on: {
      connection: () => {
        open++;
      },
      disconnect: (info) => {
        open--;
        if (info.reason === DisconnectReason.Timeout) {
          timeouts++;
          lateness.push(Date.now() - info.lastSeenAt - 2 * intervalMs);
        }
      },
    },
    getStats: () => ({ open, timeouts, lateness }),
  };
}

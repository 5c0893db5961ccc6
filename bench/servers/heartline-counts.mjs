// What the plain Heartline bench servers (heartline.mjs on Node, and
// heartline-runtime.mjs on Bun and Deno) count through their listeners, so
// every runtime runs the same listener code.
import { DisconnectReason } from "@heartline/protocol";

/** `on` for `createServer`, and `getStats` for `announceReady`. */
export function countingListeners(intervalMs) {
  let open = 0;
  let timeouts = 0;
  /** Server-side lateness of each timeout report: now − lastHeardAt − timeoutMs (a cross-check). */
  const lateness = [];
  /** Per timeout: [sessionId, lastHeardAt, reported at], epoch ms (bench/lib/decompose.mjs). */
  const timedOut = [];
  return {
    on: {
      connection: () => {
        open++;
      },
      disconnect: (info) => {
        open--;
        if (info.reason === DisconnectReason.Timeout) {
          timeouts++;
          const at = Date.now();
          lateness.push(at - info.lastHeardAt - 2 * intervalMs);
          timedOut.push([info.sessionId, info.lastHeardAt, at]);
        }
      },
    },
    getStats: () => ({ open, timeouts, lateness, timedOut }),
  };
}

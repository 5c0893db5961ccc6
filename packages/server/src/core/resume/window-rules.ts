import { CloseCode, DisconnectReason } from "@heartline/protocol";

/** A close frame without a code, as WebSocket APIs report it (never sent on the wire). */
const NO_STATUS = 1005;

/**
 * The window rule (PROTOCOL.md §7.6), in one place: does a resumable
 * session stay resumable after its connection ended this way?
 *
 * - Kept for the window: `timeout`, `connection_lost`, the server's shutdown
 *   (1001), a client close with any code but 1000 and 1005, and (Heartline's
 *   choice) a slow consumer shed with 1013: the client did nothing wrong and
 *   its unacknowledged messages are exactly what a resume replays.
 * - Ended at once (deliberate ends): the client's 1000 or 1005, the
 *   application's `conn.close()` (any code it may send), `protocol_error`,
 *   `rate_limited`.
 * - `replaced` is not asked here: the session already moved on.
 */
export function sessionSurvives(reason: DisconnectReason, code: number | undefined): boolean {
  switch (reason) {
    case DisconnectReason.Timeout:
    case DisconnectReason.ConnectionLost:
      return true;
    case DisconnectReason.ClientClosed:
      return code !== CloseCode.Normal && code !== NO_STATUS;
    case DisconnectReason.ServerClosed:
      // The application can only close with 1000 or 3000–4999, so 1001 and 1013 are the core's own.
      return code === CloseCode.GoingAway || code === CloseCode.TryAgainLater;
    default:
      return false;
  }
}

/**
 * The ack cadence of a resumable session (PROTOCOL.md, "Acknowledgements"):
 * a receiver acknowledges at once when this many received messages are
 * unacknowledged, and otherwise at the latest one heartbeat interval after
 * a message arrived (the interval is the heartbeat's `intervalMs`). Fixed
 * by the contract, so an option on neither side.
 */
export const ACK_EVERY_MESSAGES = 32;

/**
 * True when `owed` received-but-unacknowledged messages call for an ack now
 * (the count rule); below it the ack waits for the interval rule.
 */
export function ackDueNow(owed: number): boolean {
  return owed >= ACK_EVERY_MESSAGES;
}

/**
 * The ack cadence of a resumable session (PROTOCOL.md, "Acknowledgements"):
 * a receiver acknowledges at once when this many received messages are
 * unacknowledged, and otherwise at the latest one heartbeat interval after
 * a message arrived (the interval is the heartbeat's `intervalMs`). Fixed
 * by the contract, so an option on neither side.
 */
export const ACK_EVERY_MESSAGES = 32;

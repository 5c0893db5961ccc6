/**
 * The total outbound buffer across every connection (`maxBufferedBytesTotal`).
 *
 * Each connection keeps the share it last counted (its transport's
 * `bufferedAmount` when it last looked) and moves `total` by the difference
 * whenever it looks again: before and after each write, when its transport
 * reports the socket drained (the `ws` adapter: the socket's `drain` event,
 * which Node emits once a backlog past the high-water mark is flushed), and
 * when its socket is gone (its share leaves the total). So every check is
 * O(1), with no sweep over connections. Between those moments a share can
 * only be stale high (buffers only shrink while nobody writes), by less than
 * the socket's high-water mark (16 KiB) for a socket that never reached it.
 */
export class OutboundBudget {
  /** Bytes counted as queued, summed over connections. */
  total = 0;

  constructor(readonly limit: number) {}

  /** Whether queuing `bytes` more on a connection that already holds a backlog passes the limit. */
  exceeded(bytes: number): boolean {
    return this.total + bytes > this.limit;
  }
}

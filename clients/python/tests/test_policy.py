"""The contract's timing and numbering rules, on fake time (plain numbers)."""

import unittest

from heartline.policy import (
    ACK_EVERY,
    Incoming,
    Outgoing,
    TokenBucket,
    full_jitter,
    goodbye_delay,
    reason_for,
)


class Backoff(unittest.TestCase):
    def test_full_jitter_spans_zero_to_the_ceiling(self) -> None:
        self.assertEqual(full_jitter(0, 500, 30_000, 0.0), 0.0)
        self.assertAlmostEqual(full_jitter(0, 500, 30_000, 0.999), 499.5)
        self.assertAlmostEqual(full_jitter(3, 500, 30_000, 0.5), 2000)
        self.assertAlmostEqual(full_jitter(20, 500, 30_000, 0.5), 15_000)  # capped

    def test_goodbye_window_and_its_swap(self) -> None:
        self.assertEqual(goodbye_delay(1000, 10_000, 0.0), 1000)
        self.assertEqual(goodbye_delay(1000, 10_000, 0.5), 5500)
        self.assertEqual(goodbye_delay(10_000, 1000, 0.0), 1000)


class Pacing(unittest.TestCase):
    def test_burst_then_per_second_at_the_exact_boundary(self) -> None:
        bucket = TokenBucket(per_second=10, burst=3, now_ms=0)
        for _ in range(3):
            self.assertEqual(bucket.wait_ms(0), 0)
            bucket.take(0)
        self.assertAlmostEqual(bucket.wait_ms(0), 100)
        self.assertGreater(bucket.wait_ms(99), 0)
        self.assertEqual(bucket.wait_ms(100), 0)

    def test_refill_stops_at_the_burst(self) -> None:
        bucket = TokenBucket(per_second=10, burst=2, now_ms=0)
        bucket.wait_ms(60_000)
        bucket.take(60_000)
        bucket.take(60_000)
        self.assertGreater(bucket.wait_ms(60_000), 0)


class Sequences(unittest.TestCase):
    def test_outgoing_numbers_acks_and_replays(self) -> None:
        out = Outgoing()
        self.assertEqual([out.number(d)["seq"] for d in "abc"], [1, 2, 3])
        self.assertTrue(out.acked(1))
        self.assertFalse(out.acked(4))  # never sent: a bad message
        self.assertEqual(out.replay(2), [{"type": "message", "seq": 3, "data": "c"}])
        self.assertEqual(out.forget(), ["c"])
        self.assertEqual(out.number("d")["seq"], 1)

    def test_incoming_delivers_once_in_order(self) -> None:
        inc = Incoming()
        self.assertEqual(inc.receive(1, 0), "deliver")
        self.assertEqual(inc.receive(1, 0), "duplicate")
        self.assertEqual(inc.receive(3, 0), "gap")
        self.assertEqual(inc.receive(2, 0), "deliver")

    def test_ack_at_one_interval_exactly(self) -> None:
        inc = Incoming()
        inc.receive(1, 1000)
        self.assertFalse(inc.ack_due(1299, 300))
        self.assertTrue(inc.ack_due(1300, 300))
        self.assertEqual(inc.ack_frame(), {"type": "ack", "seq": 1})
        self.assertFalse(inc.owed())

    def test_ack_at_once_after_32(self) -> None:
        inc = Incoming()
        for seq in range(1, ACK_EVERY):
            inc.receive(seq, 0)
        self.assertFalse(inc.ack_due(0, 15_000))
        inc.receive(ACK_EVERY, 0)
        self.assertTrue(inc.ack_due(0, 15_000))

    def test_a_duplicate_is_acknowledged_again(self) -> None:
        inc = Incoming()
        inc.receive(1, 0)
        inc.ack_frame()
        inc.receive(1, 50)
        self.assertTrue(inc.owed())
        self.assertTrue(inc.ack_due(350, 300))
        self.assertEqual(inc.ack_frame()["seq"], 1)


class CloseCodes(unittest.TestCase):
    def test_reasons(self) -> None:
        self.assertEqual(reason_for(4000), "timeout")
        self.assertEqual(reason_for(4401), "unauthorized")
        self.assertEqual(reason_for(1006), "connection_lost")
        self.assertEqual(reason_for(4429), "rate_limited")


if __name__ == "__main__":
    unittest.main()

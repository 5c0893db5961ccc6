"""The contract's timing and numbering rules as pure functions and small
state objects, so they are unit-tested on fake time (no sockets, no sleeps)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

#: Close codes after which reconnecting cannot help (PROTOCOL.md, "Close codes").
FINAL_CLOSE_CODES = frozenset({1000, 1003, 1007, 1008, 4400, 4401, 4409})

#: The disconnect reason a close code from the server stands for.
REASONS: dict[int, str] = {
    1000: "server_closed",
    1001: "server_closed",
    1002: "protocol_error",
    1003: "protocol_error",
    1006: "connection_lost",
    1007: "protocol_error",
    1008: "protocol_error",
    1009: "protocol_error",
    1013: "server_closed",
    4000: "timeout",
    4400: "protocol_error",
    4401: "unauthorized",
    4409: "replaced",
    4429: "rate_limited",
}

#: A receiver acknowledges at once when this many messages are unacknowledged.
ACK_EVERY = 32


def reason_for(code: int) -> str:
    """The disconnect reason for a close the server (or the network) made."""
    return REASONS.get(code, "server_closed")


def full_jitter(attempt: int, base_ms: float, cap_ms: float, random: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt))."""
    return random * min(cap_ms, base_ms * math.pow(2, attempt))


def goodbye_delay(min_ms: float, max_ms: float, random: float) -> float:
    """A uniformly random wait in the goodbye window (a window given backwards is swapped)."""
    low, high = min(min_ms, max_ms), max(min_ms, max_ms)
    return low + random * (high - low)


class TokenBucket:
    """The server's announced rate as a bucket: ``burst`` at once, ``per_second`` after."""

    def __init__(self, per_second: float, burst: float, now_ms: float) -> None:
        self.per_second = per_second
        self.burst = burst
        self.tokens = burst
        self.at = now_ms

    def _refill(self, now_ms: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now_ms - self.at) * self.per_second / 1000)
        self.at = now_ms

    def wait_ms(self, now_ms: float) -> float:
        """How long until a frame may go (0: now)."""
        self._refill(now_ms)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * 1000 / self.per_second

    def take(self, now_ms: float) -> None:
        self._refill(now_ms)
        self.tokens -= 1


@dataclass
class Outgoing:
    """This side's messages on a resumable session: numbered, kept until acked."""

    next_seq: int = 1
    unacked: deque[tuple[int, Any]] = field(default_factory=deque)

    def number(self, data: Any) -> dict[str, Any]:
        frame = {"type": "message", "seq": self.next_seq, "data": data}
        self.unacked.append((self.next_seq, data))
        self.next_seq += 1
        return frame

    def acked(self, seq: int) -> bool:
        """Drops every message up to ``seq``; False for an ack of a seq never sent."""
        if seq >= self.next_seq:
            return False
        while self.unacked and self.unacked[0][0] <= seq:
            self.unacked.popleft()
        return True

    def replay(self, ack: int) -> list[dict[str, Any]]:
        """After a resume: drop what the server had (≤ ack), send the rest again, in order."""
        self.acked(min(ack, self.next_seq - 1))
        return [{"type": "message", "seq": s, "data": d} for s, d in self.unacked]

    def forget(self) -> list[Any]:
        """A new session: every unacked message is undelivered; numbering restarts."""
        lost = [d for _, d in self.unacked]
        self.unacked.clear()
        self.next_seq = 1
        return lost


@dataclass
class Incoming:
    """The other side's messages: delivered once, in order; acks owed."""

    delivered: int = 0
    acked: int = 0
    #: When the oldest unacknowledged message arrived (ms), or None.
    owed_since: float | None = None

    def receive(self, seq: int, now_ms: float) -> str:
        """"deliver", "duplicate" (drop; ack again) or "gap" (a bad message)."""
        if seq <= self.delivered:
            if self.owed_since is None:
                self.owed_since = now_ms
            self.acked = min(self.acked, seq - 1)  # a duplicate is acknowledged again
            return "duplicate"
        if seq != self.delivered + 1:
            return "gap"
        self.delivered = seq
        if self.owed_since is None:
            self.owed_since = now_ms
        return "deliver"

    def ack_due(self, now_ms: float, interval_ms: float) -> bool:
        """At the latest one interval after a receipt, at once after 32 unacked."""
        if self.owed_since is None:
            return False
        return self.delivered - self.acked >= ACK_EVERY or now_ms - self.owed_since >= interval_ms

    def owed(self) -> bool:
        return self.owed_since is not None

    def ack_frame(self) -> dict[str, Any]:
        self.acked = self.delivered
        self.owed_since = None
        return {"type": "ack", "seq": self.delivered}


Clock = Callable[[], float]

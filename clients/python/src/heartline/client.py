"""An asyncio Heartline client on the ``websockets`` library.

One coroutine per connection runs the heartbeat (a ping every ``intervalMs``
of the server's welcome), the silence check (``timeoutMs``), acks, pacing to
the announced rate and the writes; a reader task feeds it frames. Between
connections :meth:`HeartlineClient._run` waits (full jitter, or the goodbye
window) and reconnects, resuming the session when the server offered it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random as _random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode, WebSocketException

from .policy import (
    FINAL_CLOSE_CODES,
    Incoming,
    Outgoing,
    TokenBucket,
    full_jitter,
    goodbye_delay,
    reason_for,
)
from .schema import client_frame_errors, server_frame_errors

SUBPROTOCOL = "heartline.v1"
RESUME_SUBPROTOCOL = "heartline.resume"
RESUME_TOKEN_OFFER_PREFIX = "heartline.resume."

Listener = Callable[[Any], None]


def _monotonic_ms() -> float:
    return time.monotonic() * 1000


@dataclass(frozen=True)
class ClientDefaults:
    """Every default of :class:`HeartlineClient`, the same as ``@heartline/client``'s."""

    connect_timeout_ms: float = 10_000
    base_ms: float = 500
    cap_ms: float = 30_000
    max_attempts: float = math.inf
    stable_after_ms: float = 10_000
    max_messages: int = 100
    max_payload: int = 64 * 1024


DEFAULTS = ClientDefaults()


@dataclass
class _Outcome:
    reason: str
    code: int | None = None
    final: bool = False
    goodbye: tuple[float, float] | None = None
    stable: bool = False


class _Ended(Exception):
    """Ends a connection from inside its loop with an outcome."""

    def __init__(self, outcome: _Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


class HeartlineClient:
    """A client for one Heartline server URL.

    Events (``on(name, listener)``): ``open`` ({session_id, resumed,
    heartbeat}), ``message`` (data), ``disconnect`` ({reason, code,
    will_reconnect}), ``undelivered`` ({reason, messages}), ``error``
    ({code, message}), ``reconnecting`` ({attempt, delay_ms}), ``state``.
    """

    def __init__(
        self,
        url: str,
        *,
        resume: bool = True,
        reconnect: bool = True,
        connect_timeout_ms: float = DEFAULTS.connect_timeout_ms,
        base_ms: float = DEFAULTS.base_ms,
        cap_ms: float = DEFAULTS.cap_ms,
        max_attempts: float = DEFAULTS.max_attempts,
        stable_after_ms: float = DEFAULTS.stable_after_ms,
        max_messages: int = DEFAULTS.max_messages,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = _monotonic_ms,
    ) -> None:
        self.url = url
        self.resume = resume
        self.reconnect = reconnect
        self.connect_timeout_ms = connect_timeout_ms
        self.base_ms = base_ms
        self.cap_ms = cap_ms
        self.max_attempts = max_attempts
        self.stable_after_ms = stable_after_ms
        self.max_messages = max_messages
        self._random = random
        self._now = clock
        self.state = "closed"
        self.session_id: str | None = None
        self._listeners: dict[str, list[Listener]] = {}
        self._token: str | None = None
        self._resumable = False
        self._out = Outgoing()
        self._in = Incoming()
        self._queue: deque[Any] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ws: Any = None
        self._closing = False

    # ---- public API -----------------------------------------------------

    def on(self, event: str, listener: Listener) -> Callable[[], None]:
        """Adds a listener; returns the function that removes it."""
        self._listeners.setdefault(event, []).append(listener)
        return lambda: self._listeners[event].remove(listener)

    def connect(self) -> None:
        """Starts connecting (in the running event loop). Does nothing unless closed."""
        if self.state != "closed":
            return
        self._closing = False
        self._set_state("connecting")
        self._task = asyncio.get_running_loop().create_task(self._run())

    def send(self, data: Any) -> bool:
        """Queues an application message; False (and an ``error`` event) when refused."""
        try:
            json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as error:
            self._emit("error", {"code": "invalid_data", "message": str(error), "data": data})
            return False
        if self.state == "closed":
            self._emit("error", {"code": "closed", "message": "the client is closed", "data": data})
            return False
        if len(self._queue) + len(self._out.unacked) >= self.max_messages:
            self._emit("error", {"code": "outbox_overflow", "message": "outbox full", "data": data})
            return False
        self._queue.append(data)
        self._wake.set()
        return True

    async def close(self, code: int = 1000) -> None:
        """Closes for good: an owed ack goes first; what was never acked is reported."""
        if self.state == "closed":
            return
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                if self._resumable and self._in.owed():
                    await ws.send(json.dumps(self._in.ack_frame()))
                await ws.close(code)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._finish()

    # ---- internals --------------------------------------------------------

    def _emit(self, event: str, payload: Any) -> None:
        for listener in list(self._listeners.get(event, [])):
            listener(payload)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            previous, self.state = self.state, state
            self._emit("state", {"state": state, "previous": previous})

    def _finish(self) -> None:
        lost = [d for _, d in self._out.unacked] + list(self._queue)
        self._out.unacked.clear()
        self._queue.clear()
        if lost:
            self._emit("undelivered", {"reason": "closed", "messages": lost})
        self._set_state("closed")

    async def _run(self) -> None:
        attempt = 0
        try:
            while not self._closing:
                outcome = await self._connection()
                if outcome.stable:
                    attempt = 0
                will = self.reconnect and not outcome.final and not self._closing
                will = will and attempt < self.max_attempts
                if outcome.goodbye is not None:
                    delay = goodbye_delay(*outcome.goodbye, self._random())
                else:
                    delay = full_jitter(attempt, self.base_ms, self.cap_ms, self._random())
                event = {"reason": outcome.reason, "code": outcome.code, "will_reconnect": will}
                self._emit("disconnect", event)
                if not will:
                    break
                if outcome.goodbye is None:
                    attempt += 1
                self._set_state("reconnecting")
                self._emit("reconnecting", {"attempt": attempt, "delay_ms": delay})
                await asyncio.sleep(delay / 1000)
        finally:
            self._ws = None
        if not self._closing:
            self._finish()

    def _offers(self) -> list[str]:
        offers = [SUBPROTOCOL]
        if self.resume:
            offers.append(
                RESUME_TOKEN_OFFER_PREFIX + self._token if self._token else RESUME_SUBPROTOCOL
            )
        return offers

    async def _connection(self) -> _Outcome:
        timeout_s = self.connect_timeout_ms / 1000
        try:
            ws = await websockets.connect(  # type: ignore[attr-defined]
                self.url,
                subprotocols=self._offers(),
                ping_interval=None,
                ping_timeout=None,
                close_timeout=1,
                open_timeout=timeout_s,
                max_size=DEFAULTS.max_payload * 16,
            )
        except InvalidStatusCode as error:
            if error.status_code == 401:
                return _Outcome("unauthorized", final=True)
            return _Outcome("connection_lost")
        except (OSError, asyncio.TimeoutError, WebSocketException):
            return _Outcome("connection_lost")
        self._ws = ws
        try:
            return await self._session(ws)
        finally:
            self._ws = None

    def _closed_outcome(self, error: ConnectionClosed, goodbye: tuple[float, float] | None) -> _Outcome:
        code = error.rcvd.code if error.rcvd is not None else 1006
        if self._closing:
            return _Outcome("client_closed", code, final=True)
        return _Outcome(reason_for(code), code, final=code in FINAL_CLOSE_CODES, goodbye=goodbye)

    async def _session(self, ws: Any) -> _Outcome:
        try:
            raw = await asyncio.wait_for(ws.recv(), self.connect_timeout_ms / 1000)
        except ConnectionClosed as error:
            return self._closed_outcome(error, None)
        except asyncio.TimeoutError:
            await ws.close(1000)
            return _Outcome("timeout")
        welcome = _parse(raw)
        errors = server_frame_errors(welcome)
        if welcome is None or welcome.get("type") != "welcome" or errors:
            self._emit("error", {"code": "protocol_error", "message": f"bad welcome: {errors}"})
            await ws.close(4400)
            return _Outcome("protocol_error", 4400)
        return await self._open(ws, welcome)

    def _accept_welcome(self, welcome: dict[str, Any]) -> list[dict[str, Any]]:
        """Applies the welcome's session terms; returns the frames to replay."""
        offered = self._token
        resume = welcome.get("resume")
        self._token = resume["token"] if resume else None
        resumed = welcome.get("resumed")
        same = offered is not None and resumed is not None and welcome["sessionId"] == self.session_id
        self._resumable = resume is not None
        replay: list[dict[str, Any]] = []
        if same:
            replay = self._out.replay(int(resumed["ack"]))
        else:
            lost = self._out.forget()
            if lost:
                event: dict[str, Any] = {"reason": "resume_failed", "messages": lost}
                if "resumeFailed" in welcome:
                    event["resume_failed"] = welcome["resumeFailed"]
                self._emit("undelivered", event)
            self._in = Incoming()
        self.session_id = welcome["sessionId"]
        self._emit(
            "open",
            {"session_id": self.session_id, "resumed": same, "heartbeat": welcome["heartbeat"]},
        )
        return replay

    async def _open(self, ws: Any, welcome: dict[str, Any]) -> _Outcome:
        interval = float(welcome["heartbeat"]["intervalMs"])
        timeout = float(welcome["heartbeat"]["timeoutMs"])
        bucket = self._pacing(welcome.get("rate"))
        frames: deque[dict[str, Any]] = deque(self._accept_welcome(welcome))
        self._set_state("open")
        opened = last_heard = self._now()
        next_ping = opened + interval
        ping_seq = 0
        goodbye: tuple[float, float] | None = None
        reader: asyncio.Task[Any] = asyncio.ensure_future(ws.recv())
        try:
            while True:
                now = self._now()
                if now >= last_heard + timeout:
                    # Dead: close without waiting for the handshake to finish.
                    asyncio.ensure_future(_quietly(ws.close(4000)))
                    raise _Ended(_Outcome("timeout", 4000, stable=now - opened >= self.stable_after_ms))
                if now >= next_ping:
                    frames.append({"type": "ping", "seq": ping_seq})
                    ping_seq += 1
                    next_ping = max(next_ping + interval, now + interval / 2)
                if self._resumable and self._in.ack_due(now, interval):
                    frames.append(self._in.ack_frame())
                while self._queue:
                    data = self._queue.popleft()
                    if self._resumable:
                        if self._in.owed():
                            frames.append(self._in.ack_frame())
                        frames.append(self._out.number(data))
                    else:
                        frames.append({"type": "message", "data": data})
                pace_ms = 0.0
                while frames:
                    if bucket is not None:
                        pace_ms = bucket.wait_ms(now)
                        if pace_ms > 0:
                            break
                        bucket.take(now)
                    frame = frames.popleft()
                    assert not client_frame_errors(frame), frame
                    await ws.send(json.dumps(frame))
                    now = self._now()
                waits = [last_heard + timeout - now, next_ping - now]
                if self._resumable and self._in.owed_since is not None:
                    waits.append(self._in.owed_since + interval - now)
                if frames:
                    waits.append(pace_ms)
                self._wake.clear()
                waker = asyncio.ensure_future(self._wake.wait())
                done, _ = await asyncio.wait(
                    {reader, waker},
                    timeout=max(0.0, min(waits)) / 1000,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waker.cancel()
                if reader in done:
                    raw = reader.result()
                    last_heard = self._now()
                    window = self._on_frame(raw, last_heard)
                    if window is not None:
                        goodbye = window
                    reader = asyncio.ensure_future(ws.recv())
        except ConnectionClosed as error:
            outcome = self._closed_outcome(error, goodbye)
            outcome.stable = self._now() - opened >= self.stable_after_ms
            return outcome
        except _Ended as ended:
            if ended.outcome.code == 4400:
                asyncio.ensure_future(_quietly(ws.close(4400)))
            return ended.outcome
        finally:
            reader.cancel()

    def _pacing(self, rate: Any) -> TokenBucket | None:
        """The bucket for the welcome's ``rate`` terms; None when it announced none."""
        if isinstance(rate, dict) and rate.get("perSecond", 0) > 0 and rate.get("burst", 0) > 0:
            return TokenBucket(float(rate["perSecond"]), float(rate["burst"]), self._now())
        return None

    def _on_frame(self, raw: Any, now: float) -> tuple[float, float] | None:
        frame = _parse(raw)
        errors = server_frame_errors(frame)
        if errors is None:
            return None  # an unknown type: ignored
        if errors or frame is None:
            self._emit("error", {"code": "invalid_frame", "message": "; ".join(errors or [])})
            return None
        kind = frame["type"]
        if kind == "message":
            if not self._resumable:
                self._emit("message", frame["data"])
            elif "seq" not in frame:
                raise _Ended(_Outcome("protocol_error", 4400))
            else:
                verdict = self._in.receive(int(frame["seq"]), now)
                if verdict == "gap":
                    raise _Ended(_Outcome("protocol_error", 4400))
                if verdict == "deliver":
                    self._emit("message", frame["data"])
        elif kind == "ack":
            if not self._resumable or not self._out.acked(int(frame["seq"])):
                raise _Ended(_Outcome("protocol_error", 4400))
        elif kind == "error":
            self._emit("error", {"code": frame["code"], "message": frame["message"]})
        elif kind == "goodbye":
            return (float(frame["reconnect"]["minMs"]), float(frame["reconnect"]["maxMs"]))
        return None


async def _quietly(work: Any) -> None:
    with contextlib.suppress(Exception):
        await work


def _parse(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

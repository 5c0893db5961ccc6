"""The conformance kit's command protocol for this client.

``heartline-conformance client -- python3 -m heartline.conformance_driver``
(with ``clients/python/src`` on ``PYTHONPATH``): commands arrive as JSON lines
on stdin, events leave as JSON lines on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Callable

from .client import HeartlineClient

#: Optional rules of the contract this client implements (see the kit's README).
FEATURES = ["rate", "unauthorized"]


def _print(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def wire(client: HeartlineClient) -> None:
    client.on("open", lambda e: _print({"event": "open", "sessionId": e["session_id"], "resumed": e["resumed"]}))
    client.on("message", lambda data: _print({"event": "message", "data": data}))
    client.on("disconnect", lambda e: _print({"event": "disconnect", "reason": e["reason"], "code": e["code"]}))
    client.on("undelivered", lambda e: _print({"event": "undelivered", "reason": e["reason"], "data": e["messages"]}))


async def drive(make: Callable[[str], HeartlineClient] = HeartlineClient) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    client: HeartlineClient | None = None
    _print({"event": "ready", "features": FEATURES})
    while line := await reader.readline():
        try:
            command = json.loads(line)
        except ValueError:
            sys.stderr.write(f"driver: not JSON: {line!r}\n")
            continue
        if command.get("cmd") == "connect":
            client = make(command["url"])
            wire(client)
            client.connect()
        elif command.get("cmd") == "send" and client is not None:
            if not client.send(command.get("data")):
                _print({"event": "refused", "data": command.get("data")})
        elif command.get("cmd") == "close" and client is not None:
            await client.close()
        else:
            sys.stderr.write(f"driver: unknown command: {line!r}\n")
    if client is not None:
        await client.close()


if __name__ == "__main__":
    asyncio.run(drive())

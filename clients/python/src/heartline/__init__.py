"""Heartline for Python: an asyncio client for the Heartline wire protocol v1."""

from .client import DEFAULTS, ClientDefaults, HeartlineClient
from .policy import full_jitter, goodbye_delay

__all__ = ["DEFAULTS", "ClientDefaults", "HeartlineClient", "full_jitter", "goodbye_delay"]
__version__ = "0.1.0"

"""Time-ordered environment ids and the timestamps that go with them.

Ids are ``env_`` + a UUIDv7 in lowercase hex (48-bit Unix milliseconds, version nibble, a 12-bit
counter, variant bits and 62 random bits), like the seed's ``env_019e3bb39b6774d8878cd0b9d237574b``.
The counter makes ids from one process strictly increasing even within a millisecond or when the
wall clock steps back, so "newest first" is simply "largest id first" and list cursors can compare
ids as text.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

ID_PATTERN = r"^env_[0-9a-f]{32}$"
_ID_RE = re.compile(ID_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_COUNTER_MAX = 0xFFF


def is_environment_id(value: str) -> bool:
    return _ID_RE.match(value) is not None


def format_timestamp(micros: int) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``, as in the seed: 2026-05-18T15:28:07.017808Z."""
    return (_EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


class IdClock:
    """Hands out non-decreasing timestamps (µs) and strictly increasing ids. Thread-safe."""

    def __init__(self, *, floor_micros: int = 0, floor_id: str | None = None) -> None:
        self._lock = threading.Lock()
        self._last_micros = floor_micros
        self._last_millis, self._counter = _decode(floor_id) if floor_id else (-1, 0)

    def now(self) -> int:
        with self._lock:
            return self._tick()

    def new_id(self) -> tuple[str, int]:
        """A fresh id and its creation time in microseconds."""
        with self._lock:
            micros = self._tick()
            millis = micros // 1000
            if millis > self._last_millis:
                self._last_millis, self._counter = millis, 0
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:  # 4096 ids in one millisecond: borrow the next millisecond.
                self._last_millis, self._counter = self._last_millis + 1, 0
            tail = (0b10 << 62) | secrets.randbits(62)
            return f"env_{self._last_millis:012x}7{self._counter:03x}{tail:016x}", micros

    def _tick(self) -> int:
        self._last_micros = max(time.time_ns() // 1000, self._last_micros)
        return self._last_micros


def _decode(env_id: str) -> tuple[int, int]:
    """The (milliseconds, counter) of an id this module made; (-1, 0) for anything else."""
    if not is_environment_id(env_id) or env_id[16] != "7":
        return -1, 0
    return int(env_id[4:16], 16), int(env_id[17:20], 16)

"""Gateway and server failures on demand, so clients can prove their retries and reconciliation.

Kinds:

- ``500-before``: 500 api_error; nothing is done.
- ``500-after``: the request is carried out (and recorded for idempotent replay), then 500.
- ``429``: 429 with ``Retry-After`` and an error body; nothing is done.
- ``503-empty``: 503 with an empty body, as a gateway would; nothing is done.
- ``reset-after``: the request is carried out, then the connection is reset without any answer.

Faults queued with :meth:`FaultPlan.inject` come first, in order; otherwise each request draws one
with probability ``rate`` from a seeded generator.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass

FAULT_KINDS: tuple[str, ...] = ("500-before", "500-after", "429", "503-empty", "reset-after")
# Faults that replace the answer without the request being carried out.
BEFORE_KINDS = frozenset({"500-before", "429", "503-empty"})


def check_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise ValueError(
            f"unknown fault kind(s) {', '.join(unknown)}; choose from {', '.join(FAULT_KINDS)}"
        )
    return tuple(kinds)


def check_rate(rate: float) -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault_rate must be between 0 and 1, not {rate}")
    return float(rate)


@dataclass
class _Injected:
    kind: str
    remaining: int
    method: str | None


class FaultPlan:
    """Decides, request by request, which fault (if any) to inject. Thread-safe."""

    def __init__(self, *, rate: float, kinds: Sequence[str], seed: int | None) -> None:
        self.kinds = check_kinds(kinds)
        self._rate = check_rate(rate)
        self._random = random.Random(seed)  # noqa: S311 - test faults, not cryptography
        self._queue: list[_Injected] = []
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        self._rate = check_rate(value)

    def inject(self, kind: str, times: int = 1, *, method: str | None = None) -> None:
        check_kinds([kind])
        if times < 0:
            raise ValueError(f"times must not be negative, not {times}")
        if times:
            with self._lock:
                self._queue.append(_Injected(kind, times, method.upper() if method else None))

    def next(self, method: str) -> str | None:
        with self._lock:
            for injected in self._queue:
                if injected.method in (None, method):
                    injected.remaining -= 1
                    if not injected.remaining:
                        self._queue.remove(injected)
                    return injected.kind
            if self._rate and self.kinds and self._random.random() < self._rate:
                return self._random.choice(self.kinds)
            return None

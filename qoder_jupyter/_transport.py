"""A total time limit for each attempt of the synchronous client.

httpx's timeouts bound each socket operation, not a request: a server that sends its headers and
then one byte every half second keeps a call alive forever. The async client wraps each attempt in
``anyio.fail_after``; a blocking socket has no such thing, so the synchronous client's connections
go through :class:`DeadlineBackend`, which gives every connect, read and write at most the time
left before the attempt's deadline (:func:`deadline`) and fails it as a timeout once that time is
gone. Connections kept alive between attempts read the deadline of whichever attempt uses them.

httpx has no public way to choose its network backend without also giving up the proxies it reads
from the environment (passing ``transport=`` does that), so :func:`bound_attempts` wraps the
backend of each connection pool an ``httpx.Client`` built. It fails loudly, at construction, if a
future httpx lays its pools out differently.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

__all__ = ["DeadlineBackend", "bound_attempts", "deadline"]

#: The monotonic time by which the current attempt must end; None outside an attempt.
_deadline: ContextVar[float | None] = ContextVar("qoder_jupyter_attempt_deadline", default=None)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every socket operation inside ends within ``seconds`` from now, all of them together."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to the time left in the attempt; raises ``expired`` when none is left."""
    end = _deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise expired("the attempt's total time limit (attempt_timeout) ran out")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with every operation bounded by the attempt's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._backend.connect_tcp(host, port, bounded, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_attempts(client: httpx.Client) -> None:
    """Route every connection ``client`` makes (directly or through a proxy from the
    environment) through a :class:`DeadlineBackend`."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if transport is None or isinstance(
            getattr(pool, "_network_backend", None), DeadlineBackend
        ):
            continue
        if pool is None or not hasattr(pool, "_network_backend"):
            raise RuntimeError(
                f"This httpx ({httpx.__version__}) builds its connection pools in a way "
                "qoder_jupyter does not know, so it cannot bound each attempt's total time."
            )
        pool._network_backend = DeadlineBackend(pool._network_backend)

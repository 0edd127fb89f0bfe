"""Reading request bodies under a size limit, with Content-Length or chunked transfer coding.

An over-limit body is never buffered: its size is checked first (Content-Length) or counted as it
streams (chunked), and the excess is read and thrown away so the client, which sends its whole
request before reading the answer, gets the 400 instead of a broken pipe. Bodies beyond
:data:`DISCARD_MAX` are not even drained: the connection is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .responses import ApiError

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # the contract's limit (§1)
DISCARD_MAX = 256 * 1024 * 1024
_CHUNK = 64 * 1024
_LINE_MAX = 4096
_DIGITS = re.compile(r"^[0-9]{1,15}$")


class Stream(Protocol):
    def read(self, size: int, /) -> bytes: ...
    def readline(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class Body:
    data: bytes = b""
    error: ApiError | None = None
    keep_alive: bool = True  # False when the stream is no longer in step with the requests


class _Broken(Exception):
    """The body cannot be read to its end: answer 400 and close the connection."""


def read_body(
    stream: Stream, content_length: str | None, transfer_encoding: str | None, limit: int
) -> Body:
    try:
        if transfer_encoding is not None and "chunked" in transfer_encoding.lower():
            data, size = _read_chunked(stream, limit)
        elif content_length is not None:
            data, size = _read_sized(stream, content_length, limit)
        else:  # HTTP/1.1: no length and no chunking means no body
            return Body()
    except _Broken as problem:
        return Body(error=ApiError(400, str(problem)), keep_alive=False)
    if data is None:
        message = f"The request body is {size} bytes; the limit is {limit} bytes. Send less."
        return Body(error=ApiError(400, message))
    return Body(data)


def _read_sized(stream: Stream, declared: str, limit: int) -> tuple[bytes | None, int]:
    if not _DIGITS.match(declared.strip()):
        raise _Broken("Content-Length must be a number of bytes.")
    length = int(declared)
    if length > limit:
        _discard(stream, length)
        return None, length
    return _read_exactly(stream, length), length


def _read_chunked(stream: Stream, limit: int) -> tuple[bytes | None, int]:
    parts: list[bytes] = []
    size = 0
    while True:
        line = stream.readline(_LINE_MAX)
        try:
            length = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _Broken("The chunked request body is malformed.") from None
        if length == 0:
            break
        size += length
        if size > DISCARD_MAX:
            raise _Broken(f"The request body is over {DISCARD_MAX} bytes; send less.")
        if size > limit:
            _discard(stream, length)
            parts.clear()
        else:
            parts.append(_read_exactly(stream, length))
        stream.readline(_LINE_MAX)  # the CRLF that ends each chunk
    while stream.readline(_LINE_MAX) not in (b"\r\n", b"\n", b""):
        pass  # trailer fields: ignored
    return (None if size > limit else b"".join(parts)), size


def _read_exactly(stream: Stream, length: int) -> bytes:
    data = stream.read(length)
    if len(data) < length:
        raise _Broken("The request body ended early; send as many bytes as Content-Length says.")
    return data


def _discard(stream: Stream, length: int) -> None:
    if length > DISCARD_MAX:
        raise _Broken(f"The request body is {length} bytes; far over the limit. Send less.")
    while length > 0:
        data = stream.read(min(length, _CHUNK))
        if not data:
            raise _Broken("The request body ended early.")
        length -= len(data)

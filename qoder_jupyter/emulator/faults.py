"""Gateway, proxy and server failures on demand, so clients can prove their retries and
reconciliation, and that nothing they do hangs, grows without bound or leaks the token.

Each kind is either *before* (the fault answers instead of the service: nothing is done) or
*after* (the request is carried out, and recorded for idempotent replay, and only then does the
answer go wrong, so a create is ambiguous for the client). Kinds:

- ``500-before``: 500 api_error; nothing is done.
- ``500-after``: the request is carried out, then 500.
- ``429``: 429 with ``Retry-After`` and an error body; nothing is done.
- ``503-empty``: 503 with an empty body, as a gateway would; nothing is done.
- ``reset-after``: the request is carried out, then the connection is reset without any answer.
- ``cursor-repeat``: ``GET /environments`` only (other requests get no fault, and the kind stays
  queued for the next listing): the real page, but with ``has_more: true`` and a ``next_page`` and
  ``last_id`` that repeat the request's own cursor, as a proxy replaying a cached page does. A
  first page (no cursor) points at a cursor past the newest id, which yields that same first page
  again. Reading only: nothing is changed.
- ``drip``: carried out, then the status line and headers (with the body's real
  ``Content-Length``) at once and the body one byte every :data:`DRIP_INTERVAL` seconds (the
  ``drip_interval`` setting), so a client with only per-read timeouts never finishes. The drip
  stops when the client hangs up or the emulator stops.
- ``bad-encoding``: carried out, then the real answer labelled ``Content-Encoding: gzip``, which it
  is not (a lying proxy).
- ``oversized``: carried out, then 200 with a chunked JSON body that never ends
  (``{"data": [{"id": ...}, {"id": ...}, ...``) until the client hangs up, or
  :data:`OVERSIZED_MAX_BYTES` have gone out (so a broken client cannot fill a disk), and then the
  connection is closed without ending the body.
- ``bad-chunking``: carried out, then the real answer in malformed chunked transfer coding (a
  chunk size that is not hexadecimal), and the connection is closed.
- ``bad-utf8``: carried out, then 200 ``application/json`` whose first string holds bytes that are
  not UTF-8.
- ``deep-json``: carried out, then 200 ``application/json`` of arrays nested
  :data:`DEEP_JSON_DEPTH` deep (``[[[[...]]]]``), which a recursive parser cannot read.
- ``token-echo``: nothing is done; 401 with a JSON error that echoes the request's whole
  ``Authorization`` value and its bare token in the error ``message``, ``type`` and ``param``, in
  ``request_id`` (body and ``x-request-id`` header), in an ``x-debug-auth`` header, a
  ``Location``, a ``WWW-Authenticate`` and in the HTTP reason phrase. A final answer for a client.
- ``token-echo-5xx``: nothing is done; the same headers and reason phrase on a 503 whose
  ``text/html`` body is longer than 200 characters with the token straddling character
  :data:`ECHO_CUT` (where a client cuts a long body for display). A client retries it.

Faults queued with :meth:`FaultPlan.inject` come first, in order; otherwise each request draws one
with probability ``rate`` from a seeded generator (a drawn ``cursor-repeat`` that does not apply
is no fault). :class:`~qoder_jupyter.emulator.RequestRecord` names the fault that was applied.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

from .responses import JSON_TYPE, ApiError, Response, dump_json
from .validation import Cursor, parse_list_query

DRIP_INTERVAL = 0.5  # seconds between two bytes of a "drip" body
OVERSIZED_MAX_BYTES = 1 << 30  # an "oversized" body stops here, whether or not the client reads
DEEP_JSON_DEPTH = 100_000
ECHO_CUT = 200  # where a "token-echo-5xx" body puts the middle of the token

_GIB = OVERSIZED_MAX_BYTES >> 30

# Each kind in a line ("done": carried out, and replayed for its Idempotency-Key), for --help.
FAULT_SUMMARIES: dict[str, str] = {
    "500-before": "500; nothing done",
    "500-after": "done, then 500",
    "429": "429 with Retry-After; nothing done",
    "503-empty": "503 with no body; nothing done",
    "reset-after": "done, then the connection is reset (no answer)",
    "cursor-repeat": "GET /environments only: a page whose next cursor repeats the request's",
    "drip": "done, then the body one byte every --drip-interval seconds",
    "bad-encoding": "done, then Content-Encoding: gzip on a body that is not gzip",
    "oversized": f"done, then a chunked 200 body that never ends (cut after {_GIB} GiB)",
    "bad-chunking": "done, then malformed chunked transfer coding",
    "bad-utf8": "done, then 200 JSON holding bytes that are not UTF-8",
    "deep-json": f"done, then 200 JSON nested {DEEP_JSON_DEPTH:,} deep",
    "token-echo": "401 echoing the Authorization value in body, headers and reason; nothing done",
    "token-echo-5xx": f"503 text/html echoing it across character {ECHO_CUT}; nothing done",
}
FAULT_KINDS: tuple[str, ...] = tuple(FAULT_SUMMARIES)
# Faults that replace the answer without the request being carried out.
BEFORE_KINDS = frozenset({"500-before", "429", "503-empty", "token-echo", "token-echo-5xx"})
# Faults that only apply to a listing (GET on the collection).
LIST_KINDS = frozenset({"cursor-repeat"})
# Faults the server carries out on the socket itself, beyond the answer's bytes.
WIRE_KINDS = frozenset({"reset-after", "drip", "oversized", "bad-chunking"})

# A cursor past every id this emulator hands out: after it comes the first page again.
_PAST_NEWEST = Cursor("after", "env_" + "f" * 32)
_NOT_UTF8 = b"\xff\xfe\xc3\x28"  # an invalid start byte, and a lead byte with a bad continuation


def chunk(data: bytes) -> bytes:
    """One chunk of HTTP/1.1 chunked transfer coding."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def bad_chunks(body: bytes) -> bytes:
    """``body`` in chunked coding that goes wrong half-way: a chunk size that is not hexadecimal."""
    half = len(body) // 2
    return (chunk(body[:half]) if half else b"") + b"zz\r\n" + body[half:] + b"\r\n0\r\n\r\n"


# The "oversized" body: its opening, then this 64 KiB chunk again and again.
OVERSIZED_START = chunk(b'{"data":[')
_ITEM = b'{"id":"env_' + b"0" * 32 + b'","type":"environment","name":"oversized"},'
OVERSIZED_CHUNK = chunk(_ITEM * (64 * 1024 // len(_ITEM)))


def check_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise ValueError(
            f"unknown fault kind(s) {', '.join(unknown)}; choose from {', '.join(FAULT_KINDS)}"
        )
    return tuple(kinds)


def check_drip_interval(seconds: float) -> float:
    if not 0 < seconds <= 60:  # also refuses nan
        raise ValueError(f"drip_interval must be more than 0 and at most 60 seconds, not {seconds}")
    return float(seconds)


def check_rate(rate: float) -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault_rate must be between 0 and 1, not {rate}")
    return float(rate)


@dataclass
class _Injected:
    kind: str
    remaining: int
    method: str | None

    def applies(self, method: str, listing: bool) -> bool:
        return self.method in (None, method) and (listing or self.kind not in LIST_KINDS)


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

    def next(self, method: str, *, listing: bool = False) -> str | None:
        """The fault for one request (``listing``: a GET of the collection), or None."""
        with self._lock:
            for injected in self._queue:
                if injected.applies(method, listing):
                    injected.remaining -= 1
                    if not injected.remaining:
                        self._queue.remove(injected)
                    return injected.kind
            if self._rate and self.kinds and self._random.random() < self._rate:
                kind = self._random.choice(self.kinds)
                return kind if listing or kind not in LIST_KINDS else None
            return None


# --- the answers of the faults that rewrite a response -------------------------------------------


def before_response(
    kind: str, request_id: str, retry_after: int, authorization: str | None
) -> Response:
    """The answer of a fault that acts instead of the service."""
    if kind == "503-empty":
        return Response(503)
    if kind == "429":
        seconds = str(retry_after)
        return ApiError(
            429,
            f"Too many requests (emulated fault 429); retry after {seconds} s.",
            headers=(("Retry-After", seconds),),
        ).to_response(request_id)
    if kind in ("token-echo", "token-echo-5xx"):
        return _token_echo(kind, authorization or "")
    message = "Internal server error (emulated fault 500-before: nothing was done)."
    return ApiError(500, message).to_response(request_id)


def after_response(
    kind: str | None, response: Response, query: str, request_id: str
) -> Response | None:
    """The answer of a fault that comes after the service acted (``response`` is what it
    answered); None when ``kind`` does not change the answer (or does not apply to it)."""
    if kind == "500-after":
        message = "Internal server error (emulated fault 500-after: the request was done)."
        return ApiError(500, message).to_response(request_id)
    if kind == "cursor-repeat":
        return _cursor_repeat(response, query)
    if kind == "bad-encoding":
        return Response(
            response.status,
            response.body,
            response.content_type,
            (*response.headers, ("Content-Encoding", "gzip")),
        )
    if kind == "bad-utf8":
        return Response(200, _with_bad_utf8(response.body), JSON_TYPE)
    if kind == "deep-json":
        return Response(200, b"[" * DEEP_JSON_DEPTH + b"]" * DEEP_JSON_DEPTH, JSON_TYPE)
    return None


def _cursor_repeat(response: Response, query: str) -> Response | None:
    if response.status != 200:  # the listing itself failed: nothing to replay
        return None
    params = parse_qs(query, keep_blank_values=True)
    cursor = parse_list_query(params).cursor or _PAST_NEWEST
    page_token = params["page"][0] if "page" in params else cursor.encode()
    page = json.loads(response.body)
    page.update(has_more=True, next_page=page_token, last_id=cursor.env_id)
    return Response(200, dump_json(page), JSON_TYPE, response.headers)


def _with_bad_utf8(body: bytes) -> bytes:
    start = body.find(b':"')
    if start < 0:
        return b'{"message":"' + _NOT_UTF8 + b'"}'
    return body[: start + 2] + _NOT_UTF8 + body[start + 2 :]


def _token_echo(kind: str, authorization: str) -> Response:
    token = authorization.partition(" ")[2].strip() or authorization
    headers = (
        ("x-debug-auth", authorization),
        ("Location", f"https://login.example.invalid/retry?access_token={token}"),
        ("WWW-Authenticate", f'Bearer error="invalid_token", token="{token}"'),
    )
    status = 401 if kind == "token-echo" else 503
    reason = f"{HTTPStatus(status).phrase} {authorization}"
    if kind == "token-echo":
        error = {
            "type": f"authentication_error: {token}",
            "message": f"Token {token} is not valid (sent as 'Authorization: {authorization}').",
            "param": authorization,
        }
        body = dump_json({"type": "error", "error": error, "request_id": token})
        return Response(status, body, JSON_TYPE, headers, reason=reason, request_id=token)
    lead = "<html><head><title>503 Service Unavailable</title></head><body><h1>Upstream down</h1>"
    lead += "<p>upstream request failed; debug: "
    lead = lead.ljust(ECHO_CUT - len(token) // 2, ".")
    text = f"{lead}{token}</p><p>{authorization}</p></body></html>"
    html = "text/html; charset=utf-8"
    return Response(status, text.encode(), html, headers, reason=reason, request_id=token)

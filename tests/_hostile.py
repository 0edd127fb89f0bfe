"""A hostile proxy on 127.0.0.1, for the client's hardening tests.

It stands between the client and a real emulator, as a broken gateway would: each request is
forwarded to the emulator, so creates really happen and are stored there, and then the answer is
passed through or mangled in one of the ways real proxies and half-broken services mangle them
(:data:`MODES`). Tests queue a mode with :meth:`HostileProxy.inject`, then assert on what the
emulator received and stored as well as on what the client did.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

#: Seconds between two bytes of a dripped body.
DRIP_INTERVAL = 0.2
#: Where an endless body stops if a client never hangs up (no test should get near it).
ENDLESS_LIMIT = 512 * 1024 * 1024


@dataclass
class Upstream:
    """The emulator's answer to a forwarded request."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    content: bytes
    authorization: str
    query: str = ""

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class _Queued:
    mode: str
    remaining: int
    method: str | None
    options: dict[str, Any] = field(default_factory=dict)


Writer = Callable[["_Handler", Upstream, dict[str, Any]], None]


class HostileProxy:
    """``with HostileProxy(emulator) as proxy: Client(base_url=proxy.base_url, ...)``."""

    def __init__(self, upstream_base_url: str) -> None:
        self._upstream = httpx.Client(base_url=upstream_base_url.split("/api/")[0], timeout=10)
        self._queue: list[_Queued] = []
        self._lock = threading.Lock()
        self.applied: list[tuple[str, str, str]] = []  # (method, path, mode)
        self.bytes_sent: list[int] = []  # per mangled answer that streams
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.proxy = self  # type: ignore[attr-defined]
        self._path = "/api/" + upstream_base_url.split("/api/", 1)[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self._path}"

    def __enter__(self) -> HostileProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._upstream.close()

    def inject(
        self, mode: str, times: int = 1, *, method: str | None = None, **options: Any
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self._queue.append(_Queued(mode, times, method, options))

    def _next(self, method: str) -> _Queued | None:
        with self._lock:
            for queued in self._queue:
                if queued.method in (None, method):
                    queued.remaining -= 1
                    if not queued.remaining:
                        self._queue.remove(queued)
                    return queued
        return None

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Upstream:
        response = self._upstream.request(method, path, headers=headers, content=body)
        return Upstream(
            response.status_code,
            response.reason_phrase,
            list(response.headers.multi_items()),
            response.content,
            headers.get("authorization", ""),
            response.url.query.decode(),
        )

    def live_threads(self) -> int:
        return sum(1 for thread in threading.enumerate() if thread.name.startswith("hostile-"))


_FORWARDED = ("authorization", "content-type", "idempotency-key", "x-request-id")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        threading.current_thread().name = f"hostile-{uuid.uuid4().hex[:6]}"
        proxy: HostileProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() in _FORWARDED}
        workspace = self.headers.get("qoder-workspace-id")
        if workspace is not None:
            headers["qoder-workspace-id"] = workspace
        queued = proxy._next(self.command)
        path = self.path
        if queued is not None and queued.mode == "repeat-cursor":
            path = _without_cursor(path)  # a cache replays the first page, whatever was asked
        upstream = proxy.forward(self.command, path, headers, body)
        if queued is None:
            answer = _kept(upstream.headers, length=len(upstream.content))
            self._write_head(upstream.status, upstream.reason, answer)
            self._send(upstream.content)
            return
        proxy.applied.append((self.command, self.path, queued.mode))
        self.close_connection = True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client hung up
            MODES[queued.mode](self, upstream, queued.options)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    # --- writing raw HTTP -------------------------------------------------------------------

    def _write_head(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        lines = [f"HTTP/1.1 {status} {reason}".encode("latin-1", "replace")]
        lines += [f"{name}: {value}".encode("latin-1", "replace") for name, value in headers]
        self.wfile.write(b"\r\n".join(lines) + b"\r\n\r\n")
        self.wfile.flush()

    def _send(self, content: bytes) -> None:
        self.wfile.write(content)
        self.wfile.flush()


def _without_cursor(path: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("page", "after_id")]
    return parts.path + ("?" + urlencode(query) if query else "")


def _kept(headers: list[tuple[str, str]], *, length: int | None = None) -> list[tuple[str, str]]:
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in ("content-length", "transfer-encoding", "connection")
    ]
    if length is not None:
        kept.append(("Content-Length", str(length)))
    return kept


def _with_length(upstream: Upstream, content: bytes) -> list[tuple[str, str]]:
    return [*_kept(upstream.headers, length=len(content)), ("Connection", "close")]


# --- the modes -------------------------------------------------------------------------------


def _drip(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """The real answer, its body one byte at a time."""
    handler._write_head(upstream.status, upstream.reason, _with_length(upstream, upstream.content))
    for byte in upstream.content:
        time.sleep(options.get("interval", DRIP_INTERVAL))
        handler._send(bytes([byte]))


def _drip_headers(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """The status line and headers themselves one byte at a time."""
    head = f"HTTP/1.1 {upstream.status} {upstream.reason}\r\n".encode()
    head += b"".join(f"X-Pad-{i}: {'x' * 40}\r\n".encode() for i in range(200))
    for byte in head:
        time.sleep(options.get("interval", DRIP_INTERVAL))
        handler._send(bytes([byte]))


def _endless(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """A 200 whose chunked JSON body never ends."""
    handler._write_head(
        200, "OK", [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    )
    chunk = b'{"id": "env_' + b"0" * 32 + b'", "name": "x"},' * 64
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    proxy: HostileProxy = handler.server.proxy  # type: ignore[attr-defined]
    try:
        opening = b'{"data": ['
        handler._send(f"{len(opening):x}\r\n".encode() + opening + b"\r\n")
        while sent < ENDLESS_LIMIT:
            handler.wfile.write(framed)
            sent += len(chunk)
    finally:
        proxy.bytes_sent.append(sent)


def _gzip_bomb(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """A small gzip body that inflates to far more than any page."""
    import gzip

    size = options.get("inflated", 16 * 1024 * 1024)
    bomb = gzip.compress(b'{"data": [' + b" " * size + b"]}", compresslevel=9)
    headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
    handler._write_head(200, "OK", [*headers, ("Content-Length", str(len(bomb)))])
    handler._send(bomb)


def _lying_gzip(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    headers = [*_with_length(upstream, upstream.content), ("Content-Encoding", "gzip")]
    handler._write_head(upstream.status, upstream.reason, headers)
    handler._send(upstream.content)


def _bad_chunking(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    headers = [*_kept(upstream.headers), ("Transfer-Encoding", "chunked")]
    handler._write_head(upstream.status, upstream.reason, headers)
    handler._send(b"zz\r\n" + upstream.content[:10] + b"\r\n0\r\n\r\n")


def _replace_body(content: bytes) -> Writer:
    def write(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
        headers = _with_length(upstream, content)
        handler._write_head(upstream.status, upstream.reason, headers)
        handler._send(content)

    return write


def _repeat_cursor(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """A listing that claims more pages but does not advance: the same cursor again (or, with
    ``by_last_id``, the same ``last_id``), or with ``fresh`` a new cursor every time over the same
    environments; with ``fabricate``, a new cursor and one made-up environment on every page,
    endlessly."""
    page = upstream.json()
    if isinstance(page, dict) and "data" in page:
        page["has_more"] = True
        fresh = options.get("fresh") or options.get("fabricate")
        page["next_page"] = f"pg_{uuid.uuid4().hex}" if fresh else "pg_stuck"
        if options.get("fabricate"):
            made_up = {"id": "env_" + uuid.uuid4().hex, "name": "someone-else"}
            page["data"] = [made_up]
        if options.get("by_last_id"):
            page["next_page"] = None
            page["last_id"] = page["data"][0]["id"] if page["data"] else "env_" + "0" * 32
    _replace_body(json.dumps(page).encode())(handler, upstream, options)


def _echo_token(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """An error that repeats the Authorization header everywhere a server can put it."""
    auth = upstream.authorization
    bare = auth.removeprefix("Bearer ")
    status = options.get("status", 401)
    if options.get("html"):
        padding = "x" * (200 - len("<html><body>") - len(bare) // 2)
        content = f"<html><body>{padding}{bare} and {auth}</body></html>".encode()
        kind = "text/html"
    else:
        error = {
            "type": f"authentication_error {bare}",
            "message": f"Token {bare} is not valid ({auth}); escaped: {json.dumps(bare)[1:-1]}",
            "param": bare,
        }
        content = json.dumps(
            {"type": "error", "error": error, "request_id": f"req_{bare}"}
        ).encode()
        kind = "application/json"
    headers = [
        ("Content-Type", kind),
        ("Content-Length", str(len(content))),
        ("X-Debug-Auth", auth),
        ("x-request-id", bare),
        ("Location", f"https://login.example/?token={bare}"),
        ("WWW-Authenticate", f'Bearer error="{bare}"'),
        ("Connection", "close"),
    ]
    handler._write_head(status, f"Denied {bare}", headers)
    handler._send(content)


def _retry_after(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    headers = [("Retry-After", options["value"]), ("Content-Length", "0"), ("Connection", "close")]
    handler._write_head(options.get("status", 503), "Service Unavailable", headers)


def _silence(handler: _Handler, upstream: Upstream, options: dict[str, Any]) -> None:
    """The request was carried out; the answer never comes (the connection stays open)."""
    time.sleep(options.get("seconds", 30))


MODES: dict[str, Writer] = {
    "drip": _drip,
    "drip-headers": _drip_headers,
    "endless": _endless,
    "gzip-bomb": _gzip_bomb,
    "lying-gzip": _lying_gzip,
    "bad-chunking": _bad_chunking,
    "bad-utf8": _replace_body(b'{"id": "env_\xff\xfe", "name": "caf\xe9"}'),
    "deep-json": _replace_body(b"[" * 100_000 + b"]" * 100_000),
    "deep-json-object": _replace_body(b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    "not-json": _replace_body(b"<html>502 Bad Gateway</html>"),
    "repeat-cursor": _repeat_cursor,
    "echo-token": _echo_token,
    "retry-after": _retry_after,
    "silence": _silence,
}


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()

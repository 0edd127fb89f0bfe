"""HTTP on top of :mod:`http.server`: keep-alive, one write per response, faults, request records.

Why it is fast enough: ``TCP_NODELAY`` is set on every accepted connection and each response leaves
in a single ``write``, which avoids the 40 ms Nagle/delayed-ACK stall of the stock handler (see
shared/testing/loopback.md).

Each connection has a thread of its own (:class:`~http.server.ThreadingHTTPServer`), so a fault
that holds one connection (``drip``, ``oversized``) never stalls the others; such a fault ends
when its client hangs up (the next write fails) or the emulator stops.

Nothing here logs headers, so neither the ``Authorization`` header nor a token can reach a log
(the ``token-echo`` faults send it back to the client on purpose, and to no one else).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import openapi
from .bodies import DEFAULT_MAX_BODY_BYTES, Body, read_body
from .faults import (
    BEFORE_KINDS,
    DRIP_INTERVAL,
    OVERSIZED_CHUNK,
    OVERSIZED_MAX_BYTES,
    OVERSIZED_START,
    WIRE_KINDS,
    FaultPlan,
    after_response,
    bad_chunks,
    before_response,
)
from .responses import JSON_TYPE, ApiError, Response, request_id_for
from .service import API_PREFIX, WORKSPACE_HEADER, ApiRequest, Service

logger = logging.getLogger("qoder_jupyter.emulator")

OPENAPI_PATHS = frozenset({"/openapi.json", API_PREFIX + "/openapi.json"})


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the emulator saw it. Never holds the Authorization header or a token."""

    method: str
    path: str
    query: str
    idempotency_key: str | None
    request_id: str
    status: int | None  # None when no answer was sent (a "reset-after" fault)
    fault: str | None  # the fault applied (see .faults); None: the service's own answer went out
    workspace: str | None = None  # the qoder-workspace-id sent; None: none (the default workspace)


@dataclass
class Backend:
    """What the HTTP layer serves. Mutable: the emulator changes latency and faults at run time."""

    service: Service
    faults: FaultPlan
    latency: float = 0.0
    retry_after: int = 1
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    drip_interval: float = DRIP_INTERVAL
    records: list[RequestRecord] = field(default_factory=list)


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a client opening more connections at once (a
    # pool of 32) had some of them reset before they were accepted.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, host: str, port: int, backend: Backend) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = threading.Event()
        super().__init__((host, port), Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer.server_bind: its socket.getfqdn() can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = (
            str(self.server_address[0]),
            int(self.server_address[1]),
        )

    def run(self) -> None:
        """Serve until :meth:`stop`; unlike serve_forever, stopping needs no poll interval."""
        while not self._stopping.is_set():
            self.handle_request()

    def stop(self) -> None:
        """Stop accepting, then cut every open keep-alive connection. Call from another thread."""
        self._stopping.set()
        # Wake handle_request(), which is blocked waiting for a connection.
        with contextlib.suppress(OSError):
            socket.create_connection((self.server_name, self.server_port), timeout=1).close()

    def stopping(self, wait: float = 0.0) -> bool:
        """Whether the server is stopping, waiting up to ``wait`` seconds for it to begin."""
        return self._stopping.wait(wait) if wait > 0 else self._stopping.is_set()

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request is normal; never print tracebacks to stderr.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qoder-emulator"
    sys_version = ""
    timeout = 300  # seconds an idle keep-alive connection may hold a thread
    server: HTTPServer
    _fields: dict[str, str]

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    def parse_request(self) -> bool:
        """Also serve methods that have no ``do_`` handler (QUERY, BREW...): they get the API's
        405, not the stdlib's 501."""
        if not super().parse_request():
            return False
        if hasattr(self, "do_" + self.command):
            return True
        self._serve()
        return False  # tells handle_one_request the request is dealt with

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own errors (bad request line, unknown method...) in the API error shape."""
        self.close_connection = True
        text = message or _reason(code)
        request_id = request_id_for(None)
        self._send(ApiError(code, f"{text}.").to_response(request_id), request_id)

    def _header(self, name: str) -> str | None:
        return self._fields.get(name)

    def _serve(self) -> None:
        # One pass over the headers (email.message lookups are linear); the first of a name wins.
        self._fields = {name.lower(): value for name, value in reversed(self.headers.items())}
        request_id = request_id_for(self._header("x-request-id"))
        url = urlsplit(self.path)
        body = self._read_body()
        if url.path in OPENAPI_PATHS:
            self._send(self._openapi(request_id), request_id)
        elif url.path == API_PREFIX or url.path.startswith(API_PREFIX + "/"):
            self._serve_api(url.path, url.query, body, request_id)
        else:
            message = f"No such path {url.path[:100]}; the API lives under {API_PREFIX}."
            self._send(ApiError(404, message).to_response(request_id), request_id)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

    def _serve_api(self, path: str, query: str, body: Body, request_id: str) -> None:
        backend = self.server.backend
        if backend.latency > 0:
            time.sleep(backend.latency)
        listing = self.command == "GET" and path == API_PREFIX + "/environments"
        fault = backend.faults.next(self.command, listing=listing)
        if fault in BEFORE_KINDS:
            authorization = self._header("authorization")
            response = before_response(fault, request_id, backend.retry_after, authorization)
        else:
            if body.error is not None:
                response = body.error.to_response(request_id)
            else:
                response = self._call_service(path, query, body.data, request_id)
            faulty = after_response(fault, response, query, request_id)
            if faulty is not None:
                response = faulty
            elif fault not in WIRE_KINDS:
                fault = None  # drawn, but it does not apply to this answer
        backend.records.append(
            RequestRecord(
                method=self.command,
                path=path,
                query=query,
                idempotency_key=self._header("idempotency-key"),
                request_id=request_id,
                status=_status_sent(fault, response),
                fault=fault,
                workspace=self._header(WORKSPACE_HEADER),
            )
        )
        self._deliver(fault, response, request_id)

    def _deliver(self, fault: str | None, response: Response, request_id: str) -> None:
        """Send ``response``, or carry out a fault that happens on the socket itself."""
        if fault == "reset-after":
            self._reset()
        elif fault == "drip" and self.command != "HEAD":
            self._drip(response, request_id)
        elif fault == "oversized" and self.command != "HEAD":
            self._oversized(request_id)
        elif fault == "bad-chunking" and self.command != "HEAD":
            self.close_connection = True  # the stream is out of step: nothing may follow
            head = self._head(response, request_id, ("Transfer-Encoding: chunked",))
            self._write(head + bad_chunks(response.body))
        else:
            self._send(response, request_id)

    def _call_service(self, path: str, query: str, body: bytes, request_id: str) -> Response:
        request = ApiRequest(
            method=self.command,
            path=path,
            query=query,
            body=body,
            content_type=self._header("content-type"),
            authorization=self._header("authorization"),
            sent_api_key=self._header("x-api-key") is not None,
            idempotency_key=self._header("idempotency-key"),
            request_id=request_id,
            workspace=self._header(WORKSPACE_HEADER),
        )
        try:
            return self.server.backend.service.handle(request)
        except Exception:  # a bug or a stopped store: answer like a real server would
            logger.exception("emulator failure on %s %s", self.command, path)
            message = "Internal server error in the emulator; see its log."
            return ApiError(500, message).to_response(request_id)

    def _openapi(self, request_id: str) -> Response:
        if self.command not in ("GET", "HEAD"):
            error = ApiError(405, "Use GET for the OpenAPI document.", headers=(("Allow", "GET"),))
            return error.to_response(request_id)
        return Response(200, openapi.document_bytes(), "application/json")

    def _read_body(self) -> Body:
        body = read_body(
            self.rfile,
            self._header("content-length"),
            self._header("transfer-encoding"),
            self.server.backend.max_body_bytes,
        )
        if not body.keep_alive:
            self.close_connection = True
        return body

    def _head(
        self, response: Response, request_id: str, framing: tuple[str, ...] | None = None
    ) -> bytes:
        """The status line and headers; ``framing`` replaces the ``Content-Length`` line."""
        lines = [
            f"HTTP/1.1 {response.status} {response.reason or _reason(response.status)}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
            f"x-request-id: {response.request_id or request_id}",
        ]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}")
        if framing is not None:
            lines.extend(framing)
        elif response.status != 204:  # a 204 must not carry Content-Length (RFC 9110 8.6)
            lines.append(f"Content-Length: {len(response.body)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def _send(self, response: Response, request_id: str) -> None:
        head = self._head(response, request_id)
        # Headers and body in one write: no Nagle stall, one segment when small.
        self._write(head if self.command == "HEAD" else head + response.body)
        self.log_request(response.status, len(response.body))

    def _write(self, data: bytes) -> bool:
        """Write ``data``; False (and the connection is to close) when the client has gone."""
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True
            return False
        return True

    def _drip(self, response: Response, request_id: str) -> None:
        """Headers at once, then the body a byte at a time: until it is all out, the client hangs
        up (a write fails) or the emulator stops."""
        interval = self.server.backend.drip_interval
        if not self._write(self._head(response, request_id)):
            return
        for index in range(len(response.body)):
            if self.server.stopping(interval) or not self._write(response.body[index : index + 1]):
                self.close_connection = True
                return

    def _oversized(self, request_id: str) -> None:
        """A 200 whose chunked JSON body never ends, up to OVERSIZED_MAX_BYTES; then the connection
        closes without the last chunk."""
        self.close_connection = True  # the body never ends: nothing can follow it
        head = self._head(
            Response(200, content_type=JSON_TYPE), request_id, ("Transfer-Encoding: chunked",)
        )
        sent = 0
        ok = self._write(head + OVERSIZED_START)
        while ok and sent < OVERSIZED_MAX_BYTES and not self.server.stopping():
            ok = self._write(OVERSIZED_CHUNK)
            sent += len(OVERSIZED_CHUNK)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no answer, as a crashing gateway would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            # The socket really closes only once rfile (a makefile() of it) is closed as well.
            self.connection.close()
            self.rfile.close()


def _status_sent(fault: str | None, response: Response) -> int | None:
    if fault == "reset-after":
        return None
    return 200 if fault == "oversized" else response.status


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

"""The transport guard end to end, with real loopback servers: a redirect is never followed (the
token never reaches the address it points to), and a base URL that could leak the token is refused
by the clients before any connection is made. (The URL rules one by one: test_credentials.py.)"""

from __future__ import annotations

import asyncio
import http.server
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from qoder_jupyter.client import AsyncClient, Client, _tls_context
from qoder_jupyter.errors import APIError, APIStatusError, InsecureTransportError

TOKEN = "pt-transport-guard-0123456789"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with ``server.status`` (and ``Location: server.location`` then), and
    records what it received."""

    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.received.append((self.command, self.path, self.headers.get("Authorization")))
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int, location: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.status, self.location = status, location
        self.received: list[tuple[str, str, str | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serving(status: int, location: str = "") -> Iterator[_Server]:
    server = _Server(status, location)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def elsewhere() -> Iterator[_Server]:
    """Where a redirect points: must never hear from the client."""
    with serving(200) as server:
        yield server


def _sync(call: str) -> Callable[[str], object]:
    def run(base_url: str) -> object:
        with Client(base_url=base_url, token=TOKEN, backoff=0.01) as client:
            if call == "create":
                return client.environments.create(name="redirected")
            return client.environments.list()

    return run


def _async(call: str) -> Callable[[str], object]:
    async def go(base_url: str) -> object:
        async with AsyncClient(base_url=base_url, token=TOKEN, backoff=0.01) as client:
            if call == "create":
                return await client.environments.create(name="redirected")
            return await client.environments.list()

    return lambda base_url: asyncio.run(go(base_url))


CALLS = {
    "sync-list": _sync("list"),
    "sync-create": _sync("create"),
    "async-list": _async("list"),
    "async-create": _async("create"),
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", list(CALLS))
def test_a_redirect_is_never_followed(status, call, elsewhere):
    target = f"{elsewhere.url}/api/v1/cloud/environments"
    with serving(status, location=target) as redirecting:
        with pytest.raises(APIStatusError) as caught:
            CALLS[call](f"{redirecting.url}/api/v1/cloud")
        assert len(redirecting.received) == 1  # answered once, not retried
    assert caught.value.status_code == status
    assert "redirect" in str(caught.value)
    assert target in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert elsewhere.received == []


TRAPS = [
    "http://user:pw@{trap}/api",  # userinfo in front of the right host
    "http://{trap}@evil.example/api",  # the right host as userinfo
    "http://localhost.evil.example/api",
    "http://127.0.0.1.nip.io/api",
    "http://[::1].evil.example/api",
]


def _open(how: str, base_url: str) -> None:
    if how == "argument":
        Client(base_url=base_url, token=TOKEN)
    elif how == "environment":
        Client(environ={"QODER_BASE_URL": base_url, "QODER_PAT": TOKEN})
    else:
        AsyncClient(base_url=base_url, token=TOKEN)


@pytest.mark.parametrize("template", TRAPS)
@pytest.mark.parametrize("how", ["argument", "environment", "async"])
def test_a_risky_base_url_is_refused_before_connecting(template, how, elsewhere):
    base_url = template.format(trap=elsewhere.url.removeprefix("http://"))
    with pytest.raises(InsecureTransportError) as caught:
        _open(how, base_url)
    assert "pw@" not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert elsewhere.received == []


def test_loopback_over_http_is_allowed_and_gets_the_token(elsewhere):
    """The guard's other side: loopback, by name or address (IPv6 too), is where the emulator
    lives, so plain http is fine there."""
    base_url = f"{elsewhere.url}/api/v1/cloud"
    with (
        Client(base_url=base_url, token=TOKEN, max_retries=0) as client,
        pytest.raises(APIError, match="not a JSON object"),  # an empty 200 is not a page
    ):
        client.environments.list()
    assert elsewhere.received == [("GET", "/api/v1/cloud/environments", f"Bearer {TOKEN}")]
    for url in ("http://localhost:1/api", "http://[::1]:1/api", "http://127.8.9.10:1/api"):
        Client(base_url=url, token=TOKEN).close()


def test_a_loopback_client_skips_the_ca_bundle_and_its_tls_would_trust_nothing():
    """Plain http to loopback never uses TLS (every request goes to the base URL, redirects are
    not followed), so the client does not pay for loading the CA bundle; the context it holds
    instead would refuse any certificate."""
    unused, real = _tls_context(https=False), _tls_context(https=True)
    assert unused.cert_store_stats()["x509_ca"] == 0
    assert (unused.verify_mode, unused.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert real.cert_store_stats()["x509_ca"] > 0

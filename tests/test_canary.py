"""A unique fake token goes through success, every error, retries and tracebacks, and must appear
in no log record, repr, error message or traceback. (The ``canary`` fixture comes from
tests/_canary.py, which also sweeps the whole session's logs, reports and files for it.)"""

from __future__ import annotations

import http.server
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator

import pytest

from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.credentials import Token
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import QoderError


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    collector = _Collector()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    yield collector.lines
    root.removeHandler(collector)
    root.setLevel(previous)


def _error_texts(call: Callable[[], object]) -> list[str]:
    try:
        call()
    except QoderError as error:
        return [str(error), repr(error), "".join(traceback.format_exception(error))]
    raise AssertionError("expected an error")


def test_the_token_leaks_nowhere(canary, log_lines):
    seen: list[str] = []
    with Emulator(tokens=[canary], readonly_tokens=[canary + "-ro"], seed=3) as emulator:
        emulator.retry_after = 0
        client = Client(base_url=emulator.base_url, token=canary, backoff=0.001)
        env = client.environments.create(name="canary", apt=["curl"])
        seen += [repr(client), repr(Token(canary)), repr(env), repr(env.to_dict())]
        page = client.environments.list()
        seen += [repr(page), repr(client.environments.retrieve(env.id))]
        seen += [json.dumps(env._repr_mimebundle_()), json.dumps(page._repr_mimebundle_())]

        for kind in ("500-before", "500-after", "429", "503-empty", "reset-after"):
            emulator.inject(kind, method="POST")
            seen.append(repr(client.environments.create(name=f"canary-{kind}")))
        emulator.inject("reset-after", times=4, method="POST")
        emulator.inject("500-before", times=4, method="GET")
        seen += _error_texts(lambda: client.environments.create(name="canary-unknown"))

        seen += _error_texts(lambda: client.environments.create(name=""))
        seen += _error_texts(lambda: client.environments.create(name="canary"))
        seen += _error_texts(lambda: client.environments.retrieve("env_missing"))
        readonly = Client(base_url=emulator.base_url, token=canary + "-ro")
        seen += _error_texts(lambda: readonly.environments.create(name="ro"))
        stranger = Client(base_url=emulator.base_url, token=canary + "-unknown")
        seen += _error_texts(lambda: stranger.environments.list())
        seen += _error_texts(lambda: Client(base_url="http://qoder.example", token=canary))

        async def async_errors() -> list[str]:
            async with AsyncClient(base_url=emulator.base_url, token=canary + "-x") as bad:
                try:
                    await bad.environments.list()
                except QoderError as error:
                    return ["".join(traceback.format_exception(error)), repr(bad)]
            return []

        import asyncio

        seen += asyncio.run(async_errors())
        client.environments.archive(env.id)
        client.environments.delete(env.id)
        seen += [repr(record) for record in emulator.requests]
        for c in (client, readonly, stranger):
            c.close()
        base_url = emulator.base_url
    seen += _error_texts(
        lambda: Client(base_url=base_url, token=canary, max_retries=0).environments.list()
    )

    assert log_lines, "logging was not captured"
    for text in seen + log_lines:
        assert canary not in text


class _EchoingProxy(http.server.BaseHTTPRequestHandler):
    """A misbehaving server that puts the Authorization header into its error message."""

    def do_GET(self) -> None:
        body = {
            "type": "error",
            "error": {
                "type": "api_error",
                "message": f"bad header {self.headers['Authorization']}",
            },
        }
        data = json.dumps(body).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_echoing_the_token_does_not_leak_it(canary):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/cloud"
        with Client(base_url=url, token=canary) as client:
            texts = _error_texts(lambda: client.environments.list())
    finally:
        server.shutdown()
        server.server_close()
    assert "bad header Bearer <token>" in texts[0]
    for text in texts:
        assert canary not in text

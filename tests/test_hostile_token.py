"""The token stays secret when a server echoes it back: in the error's message, type, param and
request id, in a header, the reason phrase, a ``Location``, an HTML body cut for display, and in
a successful answer. None of it may reach ``str``, ``repr``, any attribute of an error, a chained
traceback, a DEBUG log record of httpx or httpcore, or ``%xmode Verbose`` output. (The session's
canary sweep, tests/_canary.py, also checks every log record and report of these tests.)"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from qoder_jupyter.client import Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import APIError, APIStatusError, AuthenticationError, ServerError
from tests._hostile import HostileProxy

VARIANTS = [
    pytest.param({"status": 401}, AuthenticationError, id="json-401"),
    pytest.param({"status": 400, "html": True}, APIError, id="html-400-cut-at-200"),
    pytest.param({"status": 503, "html": True}, ServerError, id="html-503-retried"),
    pytest.param({"status": 500}, ServerError, id="json-500-retried"),
    pytest.param({"status": 302}, APIStatusError, id="redirect-302-location"),
]


@pytest.fixture
def proxy(canary: str) -> Iterator[HostileProxy]:
    with Emulator(tokens=[canary], seed=0) as emulator, HostileProxy(emulator.base_url) as running:
        yield running


def _texts(value: Any, depth: int = 0) -> Iterator[str]:
    """Every text reachable from an error: its str and repr, its attributes, recursively."""
    yield str(value)
    yield repr(value)
    if depth > 3:
        return
    attributes = vars(value) if hasattr(value, "__dict__") else {}
    for item in attributes.values():
        if isinstance(item, str | bytes | int | float | type(None)):
            yield repr(item)
        else:
            yield from _texts(item, depth + 1)


def _raised(call: Any) -> BaseException:
    try:
        call()
    except BaseException as error:  # whatever it is, it is inspected
        return error
    raise AssertionError("no error was raised")


@pytest.mark.parametrize(("options", "expected"), VARIANTS)
def test_an_echoed_token_reaches_no_error_text_attribute_or_traceback(
    proxy, canary, caplog, options, expected
):
    caplog.set_level(logging.DEBUG)
    with Client(base_url=proxy.base_url, token=canary, backoff=0.01) as client:
        proxy.inject("echo-token", times=4, **options)
        error = _raised(client.environments.list)
    assert isinstance(error, expected)
    assert error.__cause__ is None
    assert error.__context__ is None
    seen = [*_texts(error), *traceback.format_exception(error)]
    seen += [record.getMessage() for record in caplog.records]
    seen += [logging.Formatter().format(record) for record in caplog.records]
    assert any("receive_response_headers" in text for text in seen), "DEBUG logs were not seen"
    bare = canary
    for text in seen:
        assert bare not in text
    assert any("<token>" in text for text in seen)  # the echo was there, and was redacted


def test_a_token_echoed_in_a_successful_answer_is_redacted_there_too(proxy, canary):
    with Client(base_url=proxy.base_url, token=canary) as client:
        env = client.environments.create(name="echoed", description=f"token {canary}")
        assert canary not in repr(env.to_dict())
        assert "token <token>" in env.description


def test_verbose_tracebacks_show_no_token_and_no_response(proxy, canary, monkeypatch, capsys):
    monkeypatch.setenv("QODER_PAT", canary)
    monkeypatch.setenv("QODER_BASE_URL", proxy.base_url)
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("xmode", "Verbose")
        proxy.inject("echo-token", times=4, status=401)
        shell.run_cell(
            "from qoder_jupyter.client import Client\n"
            "client = Client(backoff=0.01)\n"
            "client.environments.list()\n"
        )
        shown = capsys.readouterr()
        error = _last_error()
        # Bypass the error's own short rendering: the frames and every local, as Verbose prints.
        frames = "\n".join(
            shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
        )
    finally:
        shell.run_line_magic("xmode", "Context")
        InteractiveShell.clear_instance()
    assert "AuthenticationError" in shown.out + shown.err
    frames = re.sub(r"\x1b\[[0-9;]*m", "", frames)  # no colours
    assert "in Environments._run" in frames  # the frames and their locals were printed
    for text in (shown.out, shown.err, frames):
        assert canary not in text
        assert "X-Debug-Auth" not in text  # no header
        assert "Denied" not in text  # no reason phrase


def _last_error() -> BaseException:
    import sys

    error = getattr(sys, "last_value", None)
    assert isinstance(error, BaseException)
    return error

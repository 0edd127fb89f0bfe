"""Where the token and base URL come from, and the transport guard that protects the token."""

from __future__ import annotations

import copy
import pickle
import re

import pytest

from qoder_jupyter.credentials import (
    DEFAULT_BASE_URL,
    Token,
    check_transport,
    is_loopback_host,
    resolve_base_url,
    resolve_token,
)
from qoder_jupyter.errors import InsecureTransportError, MissingTokenError

SECRET = "pt-credentials-test-0123456789"


def test_token_argument_wins_over_the_environment():
    token = resolve_token(SECRET, {"QODER_PAT": "pt-env", "QODER_ACCESS_TOKEN": "pt-sdk"})
    assert token.reveal() == SECRET


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"QODER_PAT": "pt-a", "QODER_ACCESS_TOKEN": "pt-b"}, "pt-a"),
        ({"QODER_PAT": "  ", "QODER_ACCESS_TOKEN": "pt-b"}, "pt-b"),
        ({"QODER_ACCESS_TOKEN": "pt-b\n"}, "pt-b"),
    ],
)
def test_token_variables_are_read_in_order(environ, expected):
    assert resolve_token(None, environ).reveal() == expected


def test_a_missing_token_names_the_variables_to_set():
    with pytest.raises(MissingTokenError) as caught:
        resolve_token(None, {"QODER_BASE_URL": "https://example.com"})
    text = str(caught.value)
    assert "QODER_PAT" in text
    assert "QODER_ACCESS_TOKEN" in text


def test_the_token_never_shows_itself():
    token = Token(SECRET)
    for shown in (repr(token), str(token), f"{token}", repr([token]), repr({"t": token})):
        assert SECRET not in shown
    assert repr(token) == "Token('pt-…')"


@pytest.mark.parametrize("copier", [pickle.dumps, copy.copy, copy.deepcopy])
def test_the_token_cannot_be_pickled_or_copied(copier):
    with pytest.raises(TypeError, match="cannot be pickled"):
        copier(Token(SECRET))


@pytest.mark.parametrize(
    ("argument", "environ", "expected"),
    [
        (None, {}, DEFAULT_BASE_URL),
        (
            "http://127.0.0.1:1/api/v1/cloud/",
            {"QODER_BASE_URL": "https://x"},
            "http://127.0.0.1:1/api/v1/cloud",
        ),
        (None, {"QODER_BASE_URL": "https://a", "QODER_MANAGED_BASE_URL": "https://b"}, "https://a"),
        (None, {"QODER_BASE_URL": " ", "QODER_MANAGED_BASE_URL": "https://b/"}, "https://b"),
    ],
)
def test_base_url_resolution(argument, environ, expected):
    assert resolve_base_url(argument, environ) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://api.qoder.com/api/v1/cloud",
        "http://127.0.0.1:8765/api/v1/cloud",
        "http://127.9.9.9/api",
        "http://localhost:1/api",
        "http://LOCALHOST:1/api",
        "http://[::1]:8765/api",
        "http://[0:0:0:0:0:0:0:1]:8765/api",
    ],
)
def test_safe_base_urls_are_accepted(url):
    check_transport(url)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://api.qoder.com/api/v1/cloud", "plain http"),
        ("http://localhost.evil.example/api", "plain http"),
        ("http://127.0.0.1.nip.io/api", "plain http"),
        ("http://10.0.0.1/api", "plain http"),
        ("http://user:pw@127.0.0.1:8765/api", "user name or password"),
        ("https://pt-secret@api.qoder.com/api", "user name or password"),
        ("ftp://api.qoder.com/api", "not an http(s) URL"),
        ("api.qoder.com/api/v1/cloud", "not an http(s) URL"),
        # Tricks: what one URL parser reads as loopback and another may not.
        ("http://[::1].evil.example/api", "text after its [address]"),
        ("http://[::1]evil.example/api", "text after its [address]"),
        ("http://[evil.example]/api", "not a valid URL"),
        # Before Python 3.11.4 urlsplit takes any text in brackets: [127.0.0.1] passed as loopback.
        ("http://[127.0.0.1]/api", "not a valid URL"),
        ("http://[127.0.0.1]:8765/api", "not a valid URL"),
        ("http://[v1]/api", "not a valid URL"),
        ("http://127.0.0.1:99999/api", "not a valid URL"),
        ("http://127.0.0.1@evil.example/api", "user name or password"),
        ("http://evil.example\\@127.0.0.1/api", "user name or password"),
        ("http://evil.example#@127.0.0.1/api", "plain http"),
        ("http://evil.example?@127.0.0.1/api", "plain http"),
        ("http://127.0.0.1\t.evil.example/api", "plain http"),  # urlsplit drops the tab
        ("http://localhost./api", "plain http"),
        ("http://0x7f000001/api", "plain http"),  # loopback to some resolvers: refused anyway
        ("HTTP://evil.example/api", "plain http"),
    ],
)
def test_unsafe_base_urls_are_refused(url, fragment):
    with pytest.raises(InsecureTransportError, match=re.escape(fragment)) as caught:
        check_transport(url)
    assert "pw@" not in str(caught.value)
    assert "pt-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost.evil.example", False),
        ("0.0.0.0", False),  # noqa: S104 - a host name to classify, not a bind
        ("example.com", False),
    ],
)
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback

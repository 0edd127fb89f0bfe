"""The I/O-free core: error mapping for every documented (and undocumented) error body, and the
Retry-After arithmetic. The core is fed real response values here; the network paths are covered
against the emulator in test_client*.py."""

from __future__ import annotations

import random

import pytest

from qoder_jupyter._core import Request, Response, RetryPolicy, parse_retry_after, status_error
from qoder_jupyter.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

REQUEST = Request("POST", "/environments", request_id="req_sent")


def _json_error(status: int, error_type: str, message: str, **extra: str) -> Response:
    import json

    body = {"type": "error", "error": {"type": error_type, "message": message, **extra}}
    return Response(status, {"content-type": "application/json"}, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (418, APIStatusError),
    ],
)
def test_each_status_maps_to_its_error(status, error_class):
    error = status_error(_json_error(status, "some_error", "Something."), REQUEST)
    assert type(error) is error_class
    assert error.status_code == status
    assert error.message == "Something."
    assert error.hint


def test_error_fields_come_from_the_documented_body():
    response = _json_error(
        400, "invalid_request_error", "config.type must be 'cloud'.", param="config.type"
    )
    error = status_error(response, REQUEST)
    assert (error.error_type, error.param) == ("invalid_request_error", "config.type")
    assert str(error).startswith(
        "400 invalid_request_error: config.type must be 'cloud'. (field config.type)"
    )
    assert "Hint:" in str(error)


def test_request_id_prefers_the_body_then_the_header_then_what_was_sent():
    import json

    body = json.dumps(
        {"type": "error", "error": {"type": "api_error", "message": "m"}, "request_id": "req_body"}
    )
    with_body = Response(500, {"x-request-id": "req_header"}, body.encode())
    assert status_error(with_body, REQUEST).request_id == "req_body"
    assert (
        status_error(Response(500, {"x-request-id": "req_header"}), REQUEST).request_id
        == "req_header"
    )
    assert status_error(Response(500), REQUEST).request_id == "req_sent"


@pytest.mark.parametrize(
    ("headers", "content", "fragment"),
    [
        ({}, b"", "empty body"),
        ({}, b"   \n", "empty body"),
        (
            {"content-type": "text/html; charset=utf-8"},
            b"<html><h1>502 Bad Gateway</h1></html>",
            "HTML page",
        ),
        ({"content-type": "text/plain"}, b"upstream connect error", "upstream connect error"),
        (
            {"content-type": "application/json"},
            b'{"message": "not the documented shape"}',
            "unexpected shape",
        ),
        ({}, b"\xff\xfe binary", "non-JSON body"),
    ],
)
def test_error_bodies_from_proxies_and_gateways_get_a_clear_message(headers, content, fragment):
    error = status_error(Response(502, headers, content), REQUEST)
    assert isinstance(error, ServerError)
    assert fragment in error.message


def test_a_redirect_is_reported_not_followed():
    error = status_error(Response(301, {"location": "https://elsewhere.example/"}), REQUEST)
    assert "redirected to https://elsewhere.example/" in error.message
    assert "not followed" in error.message


def test_retry_after_in_seconds_and_as_an_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    now = 1_700_000_000.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=now) == pytest.approx(10.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now=now) == 0.0  # in the past
    for bad in (None, "", "soon", "-1", "1.5e3"):
        assert parse_retry_after(bad) is None


def test_backoff_grows_with_jitter_and_respects_a_short_retry_after():
    policy = RetryPolicy(backoff=0.5, max_backoff=4.0, max_retry_after=10.0, rng=random.Random(1))
    for attempt in range(8):
        delay = policy.delay(attempt, None)
        assert delay is not None
        assert 0 <= delay <= min(4.0, 0.5 * 2**attempt)
    assert policy.delay(0, "7") == 7.0
    assert policy.delay(0, "11") is None  # too long to wait inside a call: give up and say so

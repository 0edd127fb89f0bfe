"""Helpers shared by the emulator tests (no tests here).

The test_ prefix keeps this module among the emulator's test files and gets it pytest's assertion
rewriting, so a failed check in a helper still shows the values compared.
"""

from __future__ import annotations

import copy
import re
import ssl
from typing import Any

import httpx

ID_RE = re.compile(r"^env_[0-9a-f]{32}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SEED_CONFIG: dict[str, Any] = {
    "type": "cloud",
    "networking": {"type": "limited"},
    "packages": {"apt": ["curl"]},
}
SEED_BODY: dict[str, Any] = {"name": "doc-test-env", "config": SEED_CONFIG}
MISSING = object()


# One TLS context for every client: httpx would otherwise load the CA bundle for each new client
# (~50 ms), although these only ever speak plain http to loopback.
_TLS = ssl.create_default_context()


def loopback_client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=_TLS, timeout=10, **options)


def body_with(**changes: Any) -> dict[str, Any]:
    """SEED_BODY with top-level fields replaced (a value of MISSING removes the field)."""
    body = copy.deepcopy(SEED_BODY)
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def config_with(**changes: Any) -> dict[str, Any]:
    return body_with(config={"type": "cloud", **changes})


def create(api: httpx.Client, name: str = "doc-test-env", **fields: Any) -> dict[str, Any]:
    response = api.post("/environments", json={"name": name, "config": SEED_CONFIG, **fields})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_error(
    response: httpx.Response, status: int, error_type: str, param: object = MISSING
) -> dict[str, Any]:
    """The contract's error shape (§5), with the request id also sent as a header."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    if param is not MISSING:
        assert body["error"].get("param") == param, body["error"]
    return body

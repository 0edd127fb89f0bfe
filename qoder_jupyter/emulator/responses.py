"""What a handler answers: a :class:`Response`, or an :class:`ApiError` raised anywhere below it.

Error bodies follow the contract (§5)::

    {"type": "error", "error": {"type": ..., "message": ..., "param": ...}, "request_id": ...}

``param`` appears only when one field is to blame (a dotted path such as
``config.networking.allowed_hosts``). Messages say what is wrong and how to fix it, and never
contain a token.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"

# The error.type for each status this emulator can answer with.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    429: "rate_limit_error",
    500: "api_error",
    501: "api_error",
    503: "overloaded_error",
}

_ECHOABLE_REQUEST_ID = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,199}$")


class ApiError(Exception):
    """An error answer. Raise it from any depth; the service turns it into a :class:`Response`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.headers = headers

    @property
    def error_type(self) -> str:
        return ERROR_TYPES.get(
            self.status, "api_error" if self.status >= 500 else "invalid_request_error"
        )

    def to_response(self, request_id: str) -> Response:
        error: dict[str, str] = {"type": self.error_type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        body = {"type": "error", "error": error, "request_id": request_id}
        return json_response(self.status, body, headers=self.headers)


def invalid(message: str, param: str | None = None) -> ApiError:
    """A 400 invalid_request_error."""
    return ApiError(400, message, param=param)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    reason: str | None = None  # the reason phrase; None: the standard one for the status
    request_id: str | None = None  # the x-request-id header; None: the request's own


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    status: int, value: Any, *, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return Response(status, dump_json(value), JSON_TYPE, headers)


def request_id_for(sent: str | None) -> str:
    """Echo the client's ``x-request-id`` when it is a sane header value, else make a new one."""
    if sent is not None and _ECHOABLE_REQUEST_ID.match(sent.strip()):
        return sent.strip()
    return "req_" + secrets.token_hex(12)

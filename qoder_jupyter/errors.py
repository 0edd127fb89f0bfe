"""One typed hierarchy of errors, each with a message that says what went wrong and what to do.

Every message is short and safe to show: none of them ever contains the token. ``str(error)`` is the
one-line message plus, where there is one, a hint on its own line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "EnvironmentDeletedError",
    "InsecureTransportError",
    "MissingTokenError",
    "NoSuchEnvironmentError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaginationError",
    "PermissionDeniedError",
    "Problem",
    "QoderError",
    "RateLimitError",
    "ResponseError",
    "ResponseTooLargeError",
    "ServerError",
    "ValidationError",
]


class QoderError(Exception):
    """Base class of every error qoder_jupyter raises on purpose."""

    #: One line that tells the user what to do about it ("" when there is nothing to add).
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it: the message and the hint, no traceback (the cell still fails)."""
        first, *rest = str(self).splitlines() or [""]
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {first}", *rest]


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (a field path such as ``config.networking.type``)
    and what to do about it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(QoderError, ValueError):
    """The request is invalid; nothing was sent. ``problems`` lists every problem at once."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        header = "1 problem" if count == 1 else f"{count} problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"The environment request has {header}; nothing was sent:\n{lines}")


class ConfigurationError(QoderError):
    """The client is not set up so that it can safely talk to the service."""


class MissingTokenError(ConfigurationError):
    hint = (
        "Set the QODER_PAT (or QODER_ACCESS_TOKEN) environment variable to a personal access "
        "token (pt-...) before starting Jupyter, or pass token=... to the client."
    )


class InsecureTransportError(ConfigurationError):
    hint = "Use an https:// base URL; plain http is allowed only to a loopback address."


class EnvironmentDeletedError(QoderError):
    """The environment was deleted through this object, so it cannot be acted on any more."""

    hint = (
        "Its spec is kept: VAR.to_spec() gives it, and %qoder_env create --from VAR (VAR: the "
        "variable that holds it) makes a new environment from it."
    )

    def __init__(self, env_id: str, name: str, doing: str) -> None:
        named = f"{name!r} ({env_id})" if name else env_id
        super().__init__(f"The environment {named} was deleted: it cannot be {doing}.")
        self.env_id = env_id


class NoSuchEnvironmentError(QoderError):
    """A magic's ID matched no variable, no environment id and no unarchived environment's name."""

    hint = (
        "%qoder_env list shows the environments (--all: the archived ones too); give an id "
        "(env_…), the name of an unarchived environment, or a variable holding an Environment."
    )

    def __init__(self, given: str) -> None:
        variable = "no variable of that name in the kernel, and " if given.isidentifier() else ""
        super().__init__(
            f"Nothing is called {given!r}: {variable}no environment has that id, nor does an "
            "unarchived one have that name."
        )
        self.given = given


# --- talking to the service -------------------------------------------------------------------


class APIError(QoderError):
    """Something went wrong while talking to the service."""

    #: Whether the service may have acted on the request despite the error (it may have been
    #: sent and its answer lost, or an earlier attempt may have got through): a create that ended
    #: so is retried with the same idempotency key. Decided by the client's core.
    may_have_acted: bool = False

    def __init__(
        self, message: str, *, method: str = "", url: str = "", hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.url = url


class APIConnectionError(APIError):
    hint = "Check the base URL and your network; the request can be retried safely."


class APITimeoutError(APIConnectionError):
    hint = (
        "The service did not answer in time; try again, or raise the timeout (each read) or "
        "attempt_timeout (each attempt) setting."
    )


class ResponseError(APIError):
    """The service answered, but its answer could not be read: a body that is not UTF-8 or not
    JSON, nested too deeply, falsely labelled compressed, or cut off mid-transfer."""

    hint = (
        "A proxy or gateway between you and the service may be altering its answers; try again, "
        "or check the base URL."
    )


class ResponseTooLargeError(ResponseError):
    """An answer grew past the client's size limit and was abandoned."""

    hint = (
        "No page of environments is that large: something between you and the service is "
        "sending an endless or inflated body. Check the base URL; max_response_bytes sets the "
        "limit."
    )


class PaginationError(ResponseError):
    """A listing did not advance: the next page's cursor, or its environments, were seen before."""

    hint = (
        "The service, or a proxy caching its pages, returned a page it had already returned; "
        "try again later, or narrow the listing (limit=, created_after=)."
    )


class APIStatusError(APIError):
    """The service answered with an error status. Subclasses name the common ones."""

    hint = "See the message above; the request id helps the service's support find it."

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, hint=hint)
        self.status_code = status_code
        self.error_type = error_type
        self.param = param
        self.request_id = request_id

    def __str__(self) -> str:
        kind = f" {self.error_type}" if self.error_type else ""
        where = f" (field {self.param})" if self.param else ""
        request = f" [request {self.request_id}]" if self.request_id else ""
        text = f"{self.status_code}{kind}: {self.message}{where}{request}"
        return f"{text}\nHint: {self.hint}" if self.hint else text


class BadRequestError(APIStatusError):
    hint = "The service rejected the request as invalid; fix the field it names and resend."


class AuthenticationError(APIStatusError):
    hint = (
        "The token is missing, malformed, expired or revoked: set QODER_PAT to a valid personal "
        "access token (pt-...), or in a notebook run %qoder_env login."
    )


class PermissionDeniedError(APIStatusError):
    hint = "The token is valid but may not do this; ask for access or use another token."


class NotFoundError(APIStatusError):
    hint = "Check the environment id; list environments to see the ones that exist."


class ConflictError(APIStatusError):
    hint = (
        "The request conflicts with the environment's current state (said above): change that "
        "state, then send the request again."
    )
    #: The hint of a name that is taken (the service names the ``name`` field).
    name_taken_hint = (
        "That name is taken: choose another name, fetch the existing environment by its id (in "
        "the message above), or use apply, which makes it match the spec instead of creating."
    )

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        if details.get("hint") is None and self.param == "name":
            self.hint = self.name_taken_hint


class RateLimitError(APIStatusError):
    hint = "The service is throttling requests; wait a moment and try again."


class ServerError(APIStatusError):
    hint = "The service failed; try again later. Creates are safe to retry (idempotency key)."


class OutcomeUnknownError(APIError):
    """A create may or may not have happened, and the client could not find out which.

    Retrying with the same ``idempotency_key`` within 24 hours is safe: it can never create a second
    environment.
    """

    may_have_acted = True

    def __init__(
        self, message: str, *, name: str, idempotency_key: str, method: str = "", url: str = ""
    ) -> None:
        super().__init__(
            message,
            method=method,
            url=url,
            hint=self.retry_hint(name, f"idempotency_key={idempotency_key!r}"),
        )
        self.name = name
        self.idempotency_key = idempotency_key

    @staticmethod
    def retry_hint(name: str, key_option: str) -> str:
        """The hint, with the retry's key written as the caller types it (``key_option``:
        ``idempotency_key='…'`` in Python, ``--idempotency-key …`` in a magic)."""
        return (
            f"Look for an environment named {name!r} before creating it again, or retry with "
            f"{key_option}, which never creates twice."
        )

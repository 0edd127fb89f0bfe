"""Where the token and the base URL come from, and the rule that keeps the token off the wire in
clear text.

The token is held in a :class:`Token`, whose ``repr`` and ``str`` are masked and which refuses to be
pickled, so that it cannot end up in a notebook output, a log line or a saved kernel variable by
accident. Only the HTTP layer calls :meth:`Token.reveal`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from typing import NoReturn
from urllib.parse import urlsplit

from .errors import InsecureTransportError, MissingTokenError

__all__ = [
    "BASE_URL_VARIABLES",
    "DEFAULT_BASE_URL",
    "TOKEN_VARIABLES",
    "Token",
    "check_transport",
    "find_base_url",
    "find_token",
    "is_loopback_host",
    "resolve_base_url",
    "resolve_token",
    "workspace_problem",
]

#: The seed document's base URL. Newer docs use https://api.qoder.com/api/v1/cloud.
DEFAULT_BASE_URL = "https://openapi.qoder.sh/api/v1/cloud"
#: Environment variables read for the token, in order (the seed's name first, then the SDK's).
TOKEN_VARIABLES = ("QODER_PAT", "QODER_ACCESS_TOKEN")
#: Environment variables read for the base URL, in order (ours, then the official SDK's).
BASE_URL_VARIABLES = ("QODER_BASE_URL", "QODER_MANAGED_BASE_URL")
# In an authority, a "]" followed by anything but ":port".
_AFTER_BRACKET = re.compile(r"\](?!(?::\d*)?$)")


class Token:
    """A secret that does not show itself: ``repr`` and ``str`` print ``Token('pt-…')``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise MissingTokenError("The token is empty.")
        self._value = value.strip()

    def reveal(self) -> str:
        """The secret itself, for the Authorization header and nothing else."""
        return self._value

    def __repr__(self) -> str:
        prefix = "pt-" if self._value.startswith("pt-") else ""
        return f"Token('{prefix}…')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("A Token cannot be pickled or copied out of the process.")


def resolve_token(
    token: str | Token | None = None, environ: Mapping[str, str] | None = None
) -> Token:
    """The token given, else the first of :data:`TOKEN_VARIABLES` that is set."""
    if isinstance(token, Token):
        return token
    if token is not None:
        return Token(token)
    return find_token(TOKEN_VARIABLES, environ)[0]


def find_token(
    variables: Sequence[str], environ: Mapping[str, str] | None = None
) -> tuple[Token, str]:
    """The token in the first of ``variables`` that is set, and that variable's name."""
    environ = os.environ if environ is None else environ
    for name in variables:
        if environ.get(name, "").strip():
            return Token(environ[name]), name
    names = " or ".join(variables)
    raise MissingTokenError(f"No Qoder token: {names} is not set.")


def resolve_base_url(base_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The base URL given, else the first of :data:`BASE_URL_VARIABLES` that is set, else the
    seed's; without a trailing slash."""
    return find_base_url(base_url, environ)[0]


def find_base_url(
    base_url: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """The base URL as :func:`resolve_base_url` chooses it, and where it came from: ``"given"``,
    ``"$NAME"`` of the variable, or ``"default"``."""
    environ = os.environ if environ is None else environ
    candidates = [
        (base_url, "given"),
        *((environ.get(name), f"${name}") for name in BASE_URL_VARIABLES),
    ]
    for url, source in candidates:
        if url and url.strip():
            return url.strip().rstrip("/"), source
    return DEFAULT_BASE_URL, "default"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses only (``localhost.evil.example`` is not)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(base_url: str) -> None:
    """Refuse a base URL over which the token could leak: plain http to anything but loopback,
    credentials in the URL, or a scheme other than http(s)."""
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        _check_bracketed_host(parts.netloc)
    except ValueError:  # e.g. http://[evil.example]/, which urlsplit refuses
        raise InsecureTransportError(
            f"The base URL {_safe_url(base_url)!r} is not a valid URL."
        ) from None
    if _AFTER_BRACKET.search(parts.netloc):
        # urlsplit reads http://[::1].evil.example/ as host ::1; other parsers do not.
        raise InsecureTransportError(
            f"The base URL {_safe_url(base_url)!r} has text after its [address]."
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureTransportError(
            f"The base URL {_safe_url(base_url)!r} is not an http(s) URL with a host.",
            hint="Use a URL such as https://api.qoder.com/api/v1/cloud.",
        )
    if parts.username is not None or parts.password is not None:
        raise InsecureTransportError(
            "The base URL contains a user name or password; the token is sent in a header instead.",
            hint="Remove the 'user:password@' part from the base URL.",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InsecureTransportError(
            f"Refusing to send the token over plain http to {parts.hostname!r}."
        )


def _check_bracketed_host(netloc: str) -> None:
    """Raise ValueError unless the host in [brackets], if any, is an IPv6 or IPvFuture address
    (RFC 3986). urlsplit checks this itself from Python 3.11.4 on; before, it reads
    http://[evil.example]/ as host evil.example and http://[127.0.0.1]/ as loopback."""
    if "[" not in netloc:
        return
    host = netloc.partition("[")[2].partition("]")[0]
    if host.startswith("v"):
        if not re.fullmatch(r"v[0-9A-Fa-f]+\..+", host, flags=re.DOTALL):
            raise ValueError("IPvFuture address is invalid")
    elif not isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
        raise ValueError("An IPv4 address cannot be in brackets")


def _safe_url(url: str) -> str:
    """The URL without any userinfo, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url if "@" not in url else "<an invalid URL>"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def workspace_problem(workspace: object) -> str | None:
    """Why ``workspace`` cannot be sent as the ``qoder-workspace-id`` header; None if it can."""
    if not isinstance(workspace, str) or not workspace:
        return "The workspace id is empty: give the id of a workspace, or None for the default."
    if not (workspace.isascii() and workspace.isprintable()) or " " in workspace:
        return (
            f"The workspace id {workspace!r} holds a space, a control or a non-ASCII character, "
            "which no header can carry: copy the id again."
        )
    return None

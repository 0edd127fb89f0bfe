"""``QoderEnv``: the extension's settings, as a traitlets ``Configurable``.

Set them in an IPython config file (``c.QoderEnv.base_url = "..."``) or in a notebook
(``%config QoderEnv.max_retries = 5``); ``%qoder_env config`` shows each effective value and where
it came from. The token is deliberately not a setting: only the *name* of the environment variable
that holds it is, so no config file, ``%config`` listing or saved notebook can ever contain it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from traitlets import Float, Int, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from .credentials import (
    DEFAULT_BASE_URL,
    TOKEN_VARIABLES,
    Token,
    find_base_url,
    find_token,
    workspace_problem,
)
from .errors import MissingTokenError

__all__ = ["QoderEnv", "Setting", "list_rows"]

#: How many environments a list shows when it has more (see ``QoderEnv.list_rows``). Kept here,
#: not only on the settings object, because a list renders itself (``_repr_mimebundle_``) with no
#: session at hand; the last value set on a ``QoderEnv`` wins.
_LIST_ROWS = 20


def list_rows() -> int:
    """How many environments a displayed list shows (0: all of them)."""
    return _LIST_ROWS


class QoderEnv(Configurable):
    """Settings of the ``%qoder_env`` magics and form."""

    base_url = Unicode(
        "",
        help="The API's base URL. Empty: $QODER_BASE_URL, then $QODER_MANAGED_BASE_URL, then "
        f"{DEFAULT_BASE_URL}.",
    ).tag(config=True)
    token_env = Unicode(
        "QODER_PAT",
        help="The name of the environment variable that holds the token "
        "(QODER_ACCESS_TOKEN is tried after it). The token itself is never a setting.",
    ).tag(config=True)
    timeout = Float(30.0, help="Seconds to wait for the service to answer.").tag(config=True)
    connect_timeout = Float(5.0, help="Seconds to wait for a connection.").tag(config=True)
    attempt_timeout = Float(
        30.0,
        help="Seconds one attempt may take in all, however slowly the server sends its answer.",
    ).tag(config=True)
    max_response_bytes = Int(
        64 * 1024 * 1024,
        help="The largest answer read, in bytes; a longer one is abandoned as an error.",
    ).tag(config=True)
    max_retries = Int(3, help="Retries of a failed request (with backoff).").tag(config=True)
    workspace = Unicode(
        None,
        allow_none=True,
        help="The workspace id sent as qoder-workspace-id with every call; None: the token's "
        "default workspace.",
    ).tag(config=True)
    variable = Unicode(
        "env", help="The variable that receives an environment when -o is not given."
    ).tag(config=True)
    list_variable = Unicode(
        "envs", help="The variable that receives a list of environments when -o is not given."
    ).tag(config=True)

    list_rows = Int(
        20,
        help="How many environments a displayed list shows when it has more: the first half and "
        "the last half, with a line saying how many are left out between them (the variable "
        "still holds every one). 0 shows them all, which can put megabytes into the notebook.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._share_list_rows({"new": self.list_rows})

    @observe("list_rows")
    def _share_list_rows(self, change: Mapping[str, Any]) -> None:
        global _LIST_ROWS
        _LIST_ROWS = change["new"]

    @validate("timeout", "connect_timeout", "attempt_timeout")
    def _positive_seconds(self, proposal: dict[str, float]) -> float:
        if proposal["value"] <= 0:
            raise TraitError("Timeouts must be positive numbers of seconds.")
        return proposal["value"]

    @validate("max_retries")
    def _non_negative_retries(self, proposal: dict[str, int]) -> int:
        if proposal["value"] < 0:
            raise TraitError("max_retries must be 0 or more.")
        return proposal["value"]

    @validate("list_rows")
    def _non_negative_rows(self, proposal: dict[str, int]) -> int:
        if proposal["value"] < 0:
            raise TraitError("list_rows must be 0 (show every environment) or more.")
        return proposal["value"]

    @validate("max_response_bytes")
    def _positive_size(self, proposal: dict[str, int]) -> int:
        if proposal["value"] <= 0:
            raise TraitError("max_response_bytes must be a positive number of bytes.")
        return proposal["value"]

    @validate("workspace")
    def _workspace_id(self, proposal: dict[str, str | None]) -> str | None:
        value = proposal["value"]
        problem = None if value is None else workspace_problem(value)
        if problem is not None:
            raise TraitError(problem)
        return value

    @validate("variable", "list_variable")
    def _identifier(self, proposal: dict[str, str]) -> str:
        if not proposal["value"].isidentifier():
            raise TraitError(f"{proposal['value']!r} is not a valid Python variable name.")
        return proposal["value"]

    # --- what is in effect -----------------------------------------------------------------------

    def token_variables(self) -> tuple[str, ...]:
        """The variables read for the token, in order (the configured one first)."""
        return tuple(dict.fromkeys((self.token_env, *TOKEN_VARIABLES)))

    def find_token(self, environ: Mapping[str, str] | None = None) -> tuple[Token, str]:
        """The token from the environment and the variable it came from."""
        try:
            return find_token(self.token_variables(), environ)
        except MissingTokenError as error:
            error.hint = f"Run %qoder_env login, or set {self.token_env} before starting Jupyter."
            raise

    def effective_base_url(self, environ: Mapping[str, str] | None = None) -> Setting:
        url, source = find_base_url(self.base_url, environ)
        return Setting("base_url", url, self._source("base_url") if source == "given" else source)

    def report(self) -> list[Setting]:
        """Every setting with its effective value and where it came from."""
        settings = [self.effective_base_url()]
        for name in (
            "token_env",
            "timeout",
            "connect_timeout",
            "attempt_timeout",
            "max_response_bytes",
            "max_retries",
            "workspace",
            "list_rows",
        ):
            settings.append(Setting(name, str(getattr(self, name)), self._source(name)))
        for name in ("variable", "list_variable"):
            settings.append(Setting(name, getattr(self, name), self._source(name)))
        return settings

    def _source(self, name: str) -> str:
        """``config`` when an IPython config file or ``%config`` set it, else ``default``."""
        section = self.config.get(type(self).__name__, {})
        return "config" if name in section else "default"


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    source: str

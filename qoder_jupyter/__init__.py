"""Create and manage Qoder cloud environments from Jupyter.

Importing the package is cheap: the client (and with it httpx) and the spec load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# Public name -> submodule that defines it, imported when the name is first used.
_LAZY = {
    "AsyncClient": "client",
    "Client": "client",
    "EnvironmentSpec": "spec",
    "Environment": "environment",
    "EnvironmentPage": "environment",
    "DeletedEnvironment": "environment",
    "Token": "credentials",
    "EnvironmentForm": "forms",
    "form": "forms",
    "EnvironmentManager": "manager",
    "manager": "manager",
}

__all__ = [
    "AsyncClient",
    "Client",
    "DeletedEnvironment",
    "Environment",
    "EnvironmentForm",
    "EnvironmentManager",
    "EnvironmentPage",
    "EnvironmentSpec",
    "Token",
    "__version__",
    "form",
    "manager",
]

if TYPE_CHECKING:
    from .client import AsyncClient, Client
    from .credentials import Token
    from .environment import DeletedEnvironment, Environment, EnvironmentPage
    from .forms import EnvironmentForm, form
    from .manager import EnvironmentManager, manager
    from .spec import EnvironmentSpec


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext qoder_jupyter``: register the ``%qoder_env`` magics (httpx and ipywidgets are
    imported only when a magic first needs them)."""
    from .extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .extension import unload

    unload(ipython)

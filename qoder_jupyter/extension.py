"""The IPython extension: ``%load_ext qoder_jupyter`` registers the magics and gives them the form.

The magics and the form are peers that share a session; this module is the one place that knows
both, so that neither imports the other. The form (and with it ipywidgets) is imported only when a
``%qoder_env`` line first opens it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .magics import register, unregister

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .spec import EnvironmentSpec

__all__ = ["load", "unload"]


def load(shell: InteractiveShell) -> None:
    register(shell, open_form=_open_form)


def unload(shell: InteractiveShell) -> None:
    unregister(shell)


def _open_form(spec: EnvironmentSpec, variable: str | None) -> Any:
    from .forms import form

    return form(spec, variable=variable)

"""The IPython extension: ``%load_ext qoder_jupyter`` registers the magics and gives them the form
and the manager.

The magics, the form and the manager are peers that share a session; this module is the one place
that knows them all, so that none imports another. The form and the manager (and with them
ipywidgets) are imported only when a ``%qoder_env`` line first opens one, the progress bar of a
list apply only when one runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .magics import ProgressBar, TextProgress, register, unregister

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .environment import Environment
    from .spec import EnvironmentSpec

__all__ = ["load", "unload"]


def load(shell: InteractiveShell) -> None:
    register(
        shell, open_form=_open_form, open_manager=_open_manager, make_progress=_progress_for(shell)
    )


def unload(shell: InteractiveShell) -> None:
    unregister(shell)


def _open_form(
    spec: EnvironmentSpec, variable: str | None, editing: Environment | None = None
) -> Any:
    """The form on ``spec``; ``editing``: the live environment it updates (None: it creates)."""
    from .forms import open_form

    return open_form(spec, variable, editing)


def _open_manager(
    include_archived: bool, search: str, rows: int, variable: str, workspace: str | None
) -> Any:
    """The environment manager (``%qoder_env manage``)."""
    from .manager import manager

    return manager(
        include_archived=include_archived,
        search=search,
        page_size=rows,
        variable=variable,
        workspace=workspace,
    )


def _progress_for(shell: InteractiveShell) -> Any:
    """A widget bar in a kernel a frontend is attached to (widgets need one), text elsewhere."""
    if getattr(shell, "kernel", None) is None:
        return TextProgress

    def make(total: int, verb: str) -> ProgressBar:
        from .progress import WidgetProgress

        return WidgetProgress(total, verb)

    return make

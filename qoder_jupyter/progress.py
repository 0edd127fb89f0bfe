"""The progress of a list apply in a notebook: an ipywidgets bar with a line under it saying which
environment ended and how, updated as each one ends (the widget's messages leave the kernel while
the cell still runs). Where no frontend can show a widget (a terminal IPython, nbconvert), the
magics' text progress is used instead; the extension chooses."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan import Applied

__all__ = ["WidgetProgress"]


class WidgetProgress:
    """An ``IntProgress`` bar and a label, shown when made; closed, the bar stays at its end."""

    def __init__(self, total: int, verb: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self._verb = verb
        self._bar = widgets.IntProgress(
            value=0, min=0, max=max(total, 1), description=f"{verb}…", bar_style="info"
        )
        self._label = widgets.Label(value=f"0 of {total}")
        self._failed = 0
        bundle = widgets.HBox([self._bar, self._label])._repr_mimebundle_()
        # Where the widget cannot render (a saved notebook's HTML), a line says what it was.
        bundle["text/plain"] = f"{verb} {total} environment{'s' if total != 1 else ''}…"
        display(bundle, raw=True)  # type: ignore[no-untyped-call]

    def __call__(self, done: int, total: int, applied: Applied) -> None:
        self._failed += applied.action == "failed"
        self._bar.value = done
        failed = f", {self._failed} failed" if self._failed else ""
        self._label.value = f"{done} of {total}{failed} · {applied.name}: {applied.result}"

    def close(self) -> None:
        self._bar.description = "Done" if self._verb == "Applying" else "Planned"
        self._bar.bar_style = "danger" if self._failed else "success"

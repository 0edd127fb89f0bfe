"""What the notebook frontend needs before it can show a widget. Standard library only: it runs
while the form is built, and is tested without any frontend.

Google Colab renders the widgets of ipywidgets 8 only once its custom widget manager is on
(``google.colab.output.enable_custom_widget_manager()``); without it the form is an empty output.
"""

from __future__ import annotations

import sys

__all__ = ["in_colab", "prepare_widgets"]

_COLAB_FIX = (
    "run `from google.colab import output; output.enable_custom_widget_manager()` in a cell, "
    "then run this cell again"
)


def in_colab() -> bool:
    """Whether this kernel runs in Google Colab (whose runtime has always imported its module)."""
    return "google.colab" in sys.modules


def prepare_widgets() -> str | None:
    """Make the frontend able to show widgets where it needs telling (Colab); return one line
    saying what failed and how to fix it, or None when nothing is needed or it worked."""
    if not in_colab():
        return None
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception as error:  # any failure is the user's to fix: say how, never raise
        return (
            "Google Colab's custom widget manager could not be turned on "
            f"({type(error).__name__}: {error}), so the form may not show: {_COLAB_FIX}."
        )
    return None

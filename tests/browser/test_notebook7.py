"""Scenario 1 in Notebook 7: the same notebook, form and checks as in JupyterLab, served by
``jupyter notebook`` (its own server)."""

from __future__ import annotations

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from .form_steps import create_with_every_field, form_cells  # noqa: E402

JUPYTER_APP = "notebook"


def test_every_field_filled_in_notebook_7_creates_that_body(open_notebook, emulator):
    notebook = open_notebook(form_cells())
    assert "/notebooks/" in notebook.page.url  # Notebook 7's own page, not JupyterLab's
    create_with_every_field(notebook, emulator, screenshots="notebook7-form")

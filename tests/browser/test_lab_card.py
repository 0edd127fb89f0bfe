"""The magic path in JupyterLab: ``%qoder_env create ... -o VAR`` shows the environment's card,
readable in the light and the dark theme, and still shown after the notebook is saved from the UI
and the page reloaded; the saved file holds no token."""

from __future__ import annotations

from typing import Any

import pytest

from qoder_jupyter.emulator import Emulator

from .jupyter import JupyterServer
from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import Locator, expect  # noqa: E402

from .form_steps import body_of  # noqa: E402
from .ui import NotebookUI, code_cell, screenshot  # noqa: E402

JUPYTER_APP = "lab"

#: WCAG AA for normal text.
MIN_CONTRAST = 4.5

MAGIC = (
    "%qoder_env create --name magic-card --description 'Made by the magic, in a browser' "
    "--network allowlist --allow-host pypi.org --allow-package-managers "
    "--pip 'pandas>=2' numpy --meta team=research -o magic_env"
)
MAGIC_BODY = {
    "name": "magic-card",
    "description": "Made by the magic, in a browser",
    "config": {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org"],
            "allow_package_managers": True,
        },
        "packages": {"pip": ["pandas>=2", "numpy"]},
    },
    "metadata": {"team": "research"},
}


@pytest.fixture
def light_theme_after(jupyter: JupyterServer) -> Any:
    """Put the theme back to the default (light) after the test, for the module's next page."""
    yield
    jupyter.set_lab_setting("@jupyterlab/apputils-extension:themes", {})


def run_magic(notebook: NotebookUI, emulator: Emulator) -> Locator:
    """Run All; the card under the magic cell, checked against the emulator and the kernel."""
    notebook.run_all()
    card = notebook.cell(1).locator(".jp-OutputArea-output .qoder-env")
    expect(card).to_be_visible()
    expect(card.locator(".qoder-env-title")).to_contain_text("magic-card")
    [stored] = emulator.environments()
    assert body_of(stored) == MAGIC_BODY
    expect(card.locator(".qoder-env-id")).to_have_text(stored["id"])
    found = notebook.evaluate(kind="type(magic_env).__name__", id="magic_env.id")
    assert found == {"kind": "'Environment'", "id": repr(stored["id"])}
    return card


def assert_readable(notebook: NotebookUI, card: Locator) -> dict[str, Any]:
    measured = notebook.card_contrast(card)
    texts = measured["texts"]
    assert len(texts) >= 10, texts  # title, badges, every label and value
    worst = min(texts, key=lambda text: text["ratio"])
    assert worst["ratio"] >= MIN_CONTRAST, f"hard to read: {worst}"
    return measured


def test_the_magic_card_is_readable_in_light_and_dark(open_notebook, emulator, light_theme_after):
    notebook = open_notebook([code_cell("%load_ext qoder_jupyter"), code_cell(MAGIC)])
    card = run_magic(notebook, emulator)
    # The card with a little of the notebook around it.
    shown = card.locator(".qoder-env-card")

    light = assert_readable(notebook, card)
    assert light["cardLuminance"] > 0.8  # a light card in the light theme
    screenshot(shown, "card-light.png", margin=16)

    notebook.switch_theme("JupyterLab Dark")
    notebook.wait_dark_theme()
    dark = assert_readable(notebook, card)
    assert dark["cardLuminance"] < 0.05  # the card follows the theme: dark, not a white box
    screenshot(shown, "card-dark.png", margin=16)


def test_a_saved_notebook_shows_the_card_after_a_reload_and_holds_no_token(
    open_notebook, emulator, jupyter
):
    notebook = open_notebook(
        [
            code_cell("%load_ext qoder_jupyter"),
            code_cell(MAGIC),
            code_cell("%qoder_env config"),
        ]
    )
    card = run_magic(notebook, emulator)
    [stored] = emulator.environments()
    config = notebook.cell(2).locator(".jp-OutputArea-output")
    expect(config).to_contain_text("set (from $QODER_PAT)")

    notebook.save()
    saved = notebook.file.read_text()
    assert stored["id"] in saved  # the outputs were saved...
    assert "qoder-env-card" in saved
    assert emulator.token not in saved  # ...and no token with them
    assert jupyter.token not in saved
    assert "pt-canary-" not in saved

    notebook.page.reload()
    notebook.wait_loaded()
    card = notebook.cell(1).locator(".jp-OutputArea-output .qoder-env")
    expect(card).to_be_visible()
    expect(card.locator(".qoder-env-id")).to_have_text(stored["id"])
    # Rendered as a card (its style kept: the notebook is trusted), not as bare text.
    card_box = card.locator(".qoder-env-card")
    expect(card_box).to_have_css("border-top-style", "solid")
    expect(card_box).to_have_css("border-top-left-radius", "6px")
    assert emulator.environments() == [stored]  # reloading ran nothing again

"""The form and the card in Notebook 7 (``jupyter notebook``, its own server), as a person sees
them: in the light and the dark theme, 1,400, 800 and 600 pixels wide, nothing cut off, and a create
from the form that lands in the emulator's store. Screenshots: build/screenshots/notebook7-*.png.
"""

from __future__ import annotations

from typing import Any

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import Locator, expect  # noqa: E402

from .form_steps import Form, body_of, creates  # noqa: E402
from .pages import (  # noqa: E402
    FRONTEND_CHROME,
    light_backgrounds,
    measure,
    problems_report,
    unreadable,
)
from .ui import WIDTHS, clipped, code_cell, screenshot  # noqa: E402

JUPYTER_APP = "notebook"

CARD_MAGIC = (
    "%qoder_env create --name nb7-card --description 'The card in Notebook 7' "
    "--network allowlist --allow-host pypi.org files.pythonhosted.org --allow-package-managers "
    "--pip 'pandas>=2' numpy --apt curl --meta team=research owner=notebook-7 -o card_env"
)
CARD_BODY = {
    "name": "nb7-card",
    "description": "The card in Notebook 7",
    "config": {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org", "files.pythonhosted.org"],
            "allow_package_managers": True,
        },
        "packages": {"apt": ["curl"], "pip": ["pandas>=2", "numpy"]},
    },
    "metadata": {"team": "research", "owner": "notebook-7"},
}
# What the form is opened with: long enough values that a narrow form has to wrap them.
FORM_MAGIC = (
    "%qoder_env --form --name nb7-form --description 'Made in Notebook 7 from the form, in the "
    "light and the dark theme' --network allowlist --allow-host pypi.org --allow-package-managers "
    "--pip numpy --meta team=research purpose='checking the layout at 800 pixels' -o form_env"
)
FORM_BODY = {
    "name": "nb7-form",
    "description": "Made in Notebook 7 from the form, in the light and the dark theme",
    "config": {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org"],
            "allow_package_managers": True,
        },
        "packages": {"pip": ["numpy"]},
    },
    "metadata": {"team": "research", "purpose": "checking the layout at 800 pixels"},
}


def _look(form: Form, card: Locator, name: str, dark: bool) -> dict[str, list[Any]]:
    """At the page's current width and theme: screenshots of the form and the card, and what a
    person would find wrong in them (cut off, hard to read, a light box in the dark theme)."""
    found: dict[str, list[Any]] = {}
    # The form whole (it is taller than the window), the card with a little of the page around.
    screenshot(form.root, f"notebook7-form-{name}.png")
    screenshot(card.locator(".qoder-env-card"), f"notebook7-card-{name}.png", margin=16)
    for target, what in ((form.root, "form"), (card, "card")):
        measured = measure(target, skip=FRONTEND_CHROME)
        found[f"{what} {name}: cut off"] = clipped(target)
        found[f"{what} {name}: under WCAG AA"] = unreadable(measured)
        if dark:
            found[f"{what} {name}: light background"] = light_backgrounds(measured)
    return found


def test_form_and_card_in_notebook_7_light_and_dark_at_every_width(
    open_notebook: Any, emulator: Any, light_theme_after: None
) -> None:
    notebook = open_notebook(
        [code_cell("%load_ext qoder_jupyter"), code_cell(CARD_MAGIC), code_cell(FORM_MAGIC)]
    )
    assert "/notebooks/" in notebook.page.url  # Notebook 7's own page, not JupyterLab's
    notebook.run_all()
    card = notebook.cell(1).locator(".jp-OutputArea-output .qoder-env")
    expect(card.locator(".qoder-env-title")).to_contain_text("nb7-card")
    [stored] = emulator.environments()
    assert body_of(stored) == CARD_BODY
    form = Form(notebook.form(0))
    expect(form.input("name")).to_have_value("nb7-form")

    problems: dict[str, list[Any]] = {}
    for dark in (False, True):
        if dark:
            notebook.use_dark_theme()
        theme = "dark" if dark else "light"
        for width in WIDTHS if not dark else WIDTHS[::-1]:  # one change of width fewer
            notebook.set_width(width)
            problems.update(_look(form, card, f"{theme}-{width}", dark))
    failing = [what for what, found in problems.items() if found]
    assert not failing, f"in Notebook 7:\n{problems_report(problems)}"

    # Create from the form, in the dark theme at 1,400 px.
    new_id = form.submit("nb7-form")
    screenshot(form.root, "notebook7-form-created-dark-1400.png")
    assert {env["id"]: body_of(env) for env in emulator.environments()} == {
        stored["id"]: CARD_BODY,
        new_id: FORM_BODY,
    }
    assert creates(emulator) == [201, 201]
    found = notebook.evaluate(kind="type(form_env).__name__", id="form_env.id")
    assert found == {"kind": "'Environment'", "id": repr(new_id)}

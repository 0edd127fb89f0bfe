"""The displays in a VS Code-like page: VS Code's notebook renderer gives an output only the
workbench's ``--vscode-*`` colour variables (no ``--jp-*``). The card, the list, the diff, the
dry-run preview and the package import, rendered there in VS Code's default dark and light themes,
keep WCAG AA contrast, and in the dark theme nothing paints a light background of its own (a repr
that does whitens the cell)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import Browser, Page  # noqa: E402

from .pages import (  # noqa: E402
    VSCODE_DARK,
    VSCODE_LIGHT,
    Display,
    emulator_client,
    light_backgrounds,
    measure,
    problems_report,
    project_displays,
    unreadable,
    vscode_page,
)
from .ui import screenshot  # noqa: E402

TITLES = [
    "card",
    "archived card",
    "deleted card",
    "list",
    "diff",
    "dry-run preview",
    "package import",
]


@pytest.fixture(scope="module")
def displays(tmp_path_factory: pytest.TempPathFactory) -> list[Display]:
    with emulator_client() as (_, client):
        return project_displays(client, tmp_path_factory.mktemp("vscode"))


@pytest.fixture
def vscode(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _open(page: Page, displays: list[Display], *, dark: bool) -> None:
    variables = VSCODE_DARK if dark else VSCODE_LIGHT
    page.set_content(vscode_page(variables, displays, dark=dark))
    # The page holds no --jp-* variable: what is shown comes from --vscode-* or literals.
    root = "getComputedStyle(document.documentElement)"
    assert page.evaluate(f"() => {root}.getPropertyValue('--jp-layout-color1')") == ""


@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
def test_every_display_keeps_aa_contrast_with_only_vscode_variables(vscode, displays, dark):
    assert [display.title for display in displays] == TITLES
    _open(vscode, displays, dark=dark)
    theme = "dark" if dark else "light"
    screenshot(vscode.locator("body"), f"vscode-{theme}.png")

    hard_to_read = {}
    for display in displays:
        output = vscode.locator(f'section.output[data-title="{display.title}"]')
        measured = measure(output)
        assert len(measured["texts"]) >= 3, (display.title, measured["texts"])
        hard_to_read[display.title] = unreadable(measured)
    failing = [title for title, found in hard_to_read.items() if found]
    assert not failing, f"under WCAG AA in VS Code {theme}:\n{problems_report(hard_to_read)}"


def test_nothing_paints_a_light_background_in_the_vscode_dark_theme(vscode, displays):
    _open(vscode, displays, dark=True)
    body = measure(vscode.locator("body"))
    assert body["rootLuminance"] < 0.05  # the page is VS Code's dark editor
    whitened = {}
    for display in displays:
        output = vscode.locator(f'section.output[data-title="{display.title}"]')
        whitened[display.title] = light_backgrounds(measure(output))
    failing = [title for title, found in whitened.items() if found]
    assert not failing, f"light backgrounds in VS Code dark:\n{problems_report(whitened)}"

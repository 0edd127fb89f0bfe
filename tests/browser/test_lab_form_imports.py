"""The form's "Import packages" section in JupyterLab: a person opens it, types a file's path,
clicks Import (or From kernel) and sees the entries appear as tags and the report under them,
readable in the light and the dark theme and at 800 px wide; a missing file is said in red."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .jupyter import JupyterServer
from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import Locator, expect  # noqa: E402

from .form_steps import Form, form_cells  # noqa: E402
from .ui import COLOURS_JS, NotebookUI, screenshot  # noqa: E402

JUPYTER_APP = "lab"

#: WCAG AA for normal text.
MIN_CONTRAST = 4.5

REQUIREMENTS = """\
# what the notebook needs
requests>=2.31
numpy==1.26.4  # pinned for the model
-e ./mylib
./wheels/tool-1.0-py3-none-any.whl
"""
APT = "curl\ngit\n"
TAKEN_PIP = ["requests>=2.31", "numpy==1.26.4"]

#: The WCAG contrast of every text of the form's own widgets under an element (an import's
#: report, a `.qoder-env` rendering, is left out: it is the report's own rendering).
_OWN_CONTRAST = "(root) => {" + COLOURS_JS + "return textContrasts(root, '.qoder-env'); }"


@pytest.fixture
def light_theme_after(jupyter: JupyterServer) -> Iterator[None]:
    """Put the theme back to the default (light) after the test, for the module's next page."""
    yield
    jupyter.set_lab_setting("@jupyterlab/apputils-extension:themes", {})


class ImportSection:
    """The "Import packages" section of one form, as a person uses it."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.root = form.widget("imports")

    def open(self) -> None:
        self.root.locator(".jupyter-widget-Collapse-header").click()
        expect(self.form.widget("import_button")).to_be_visible()

    @property
    def result(self) -> Locator:
        return self.form.widget("import_result")

    @property
    def report(self) -> Locator:
        return self.result.locator(".qoder-env-report")

    @property
    def error(self) -> Locator:
        return self.result.locator(".qoder-form-import-error")

    def import_files(self, files: str) -> None:
        self.form.input("import_files").fill(files)
        self.form.widget("import_button").click()


def open_form(
    open_notebook: Any, name: str, *, width: int = 1280
) -> tuple[NotebookUI, Form, ImportSection]:
    """The empty form of ``notebooks/form.ipynb``, named, its import section open, with a
    requirements.txt and an apt.txt beside the notebook (the kernel's working directory). The
    page is tall enough for the whole form, so its screenshots show all of it."""
    notebook: NotebookUI = open_notebook(form_cells(through_first_form=True))
    notebook.page.set_viewport_size({"width": width, "height": 2600})
    (notebook.server.root / "requirements.txt").write_text(REQUIREMENTS)
    (notebook.server.root / "apt.txt").write_text(APT)
    notebook.run_all()
    form = Form(notebook.form(0))
    form.type_name(name)
    section = ImportSection(form)
    section.open()
    return notebook, form, section


def switch_to_dark(notebook: NotebookUI) -> None:
    """The dark theme, applied and its splash screen gone (a screenshot would show it)."""
    notebook.switch_theme("JupyterLab Dark")
    notebook.wait_dark_theme()
    expect(notebook.page.locator("#jupyterlab-splash")).to_have_count(0)


def assert_readable(target: Locator, *, texts: int) -> None:
    """Every text of the form's own widgets under ``target`` (at least ``texts`` of them) has
    the contrast of WCAG AA."""
    measured: list[dict[str, Any]] = target.evaluate(_OWN_CONTRAST)
    assert len(measured) >= texts, measured
    worst = min(measured, key=lambda text: text["ratio"])
    assert worst["ratio"] >= MIN_CONTRAST, f"hard to read: {worst}"


def test_import_fills_the_lists_and_shows_what_was_left_out(
    open_notebook, emulator, light_theme_after
):
    notebook, form, section = open_form(open_notebook, "from-files")

    section.import_files("requirements.txt, apt.txt")

    expect(form.tags("pip")).to_have_text(TAKEN_PIP)
    expect(form.tags("apt")).to_have_text(["curl", "git"])
    expect(section.report).to_be_visible()
    expect(section.report.locator(".qoder-env-title")).to_contain_text("4 taken")
    expect(section.report.locator(".qoder-env-title")).to_contain_text("2 left out")
    left = section.report.locator("table.qoder-env-report-left")
    expect(left).to_contain_text("-e ./mylib")
    expect(left).to_contain_text("requirements.txt:4")
    expect(left).to_contain_text("./wheels/tool-1.0-py3-none-any.whl")
    form.expect_preview_body(
        {
            "name": "from-files",
            "config": {
                "type": "cloud",
                "packages": {"apt": ["curl", "git"], "pip": TAKEN_PIP},
            },
        }
    )
    assert emulator.environments() == []  # importing sends nothing

    screenshot(form.root, "form-imports-light.png")
    # The section's title, help, labels, checkboxes and buttons.
    assert_readable(section.root, texts=10)
    switch_to_dark(notebook)
    screenshot(form.root, "form-imports-dark.png")
    assert_readable(section.root, texts=10)


def test_a_missing_file_is_said_in_red_and_the_lists_stay(
    open_notebook, emulator, light_theme_after
):
    notebook, form, section = open_form(open_notebook, "missing-file")
    section.import_files("requirements.txt")
    expect(form.tags("pip")).to_have_text(TAKEN_PIP)

    section.import_files("requirements.txt, nowhere/requirements.txt")

    expect(section.error).to_contain_text("Nothing imported.")
    expect(section.error).to_contain_text("nowhere/requirements.txt: no such file")
    red, green, blue, _ = section.error.evaluate(
        "(element) => {" + COLOURS_JS + "return parse(getComputedStyle(element).color); }"
    )
    assert red - max(green, blue) > 80, (red, green, blue)  # red
    expect(section.report).to_have_count(0)
    expect(form.tags("pip")).to_have_text(TAKEN_PIP)  # the lists as they were
    expect(form.input("import_files")).to_have_value("requirements.txt, nowhere/requirements.txt")
    expect(form.widget("import_button")).to_be_enabled()
    screenshot(form.root, "form-imports-error.png")
    assert_readable(section.error, texts=2)

    switch_to_dark(notebook)
    screenshot(section.root, "form-imports-error-dark.png")
    assert_readable(section.error, texts=2)


def test_from_kernel_at_800_px_wide(open_notebook, emulator, page):
    notebook, form, section = open_form(open_notebook, "from-kernel", width=800)
    # On a screen this narrow a person hides the file browser: the notebook gets the width.
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    expect(page.locator("#jp-left-stack")).to_be_hidden()
    form.input("imported_only").check()
    section.import_files("requirements.txt")
    expect(form.tags("pip")).to_have_text(TAKEN_PIP)

    form.widget("from_kernel_button").click()

    expect(section.report).to_contain_text("From the kernel (imported modules only)")
    # The kernel has imported ipywidgets (the form is one) but it runs Jupyter: left out.
    expect(section.report).to_contain_text("for running Jupyter")
    pins = form.tags("pip")
    expect(pins.nth(len(TAKEN_PIP))).to_be_visible()  # pins added after what the list held
    found = notebook.evaluate(
        version="__import__('importlib.metadata').metadata.version('packaging')",
    )
    expect(pins.filter(has_text=re.compile(r"^packaging=="))).to_have_text(
        f"packaging=={found['version'].strip(chr(39))}"
    )
    # Nothing wider than the notebook: no field pushed past its right edge.
    overflow = form.root.evaluate(
        """(root) => {
            const right = root.getBoundingClientRect().right + 1;
            return [...root.querySelectorAll('*')]
                .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > right)
                .map((e) => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 60))
                .slice(0, 5);
        }"""
    )
    assert overflow == []
    screenshot(form.root, "form-imports-800.png")

"""The form as a person fills it in a browser (JupyterLab or Notebook 7), and what the emulator
must hold afterwards.

A value typed into a widget reaches the kernel asynchronously; every step here waits for what the
kernel sends back (a problem label, the summary, the JSON preview) before the next one relies on
it, so a click never overtakes the values it submits.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from playwright.sync_api import Locator, expect

from qoder_jupyter.emulator import Emulator

from .ui import REPO, NotebookUI, clipped, screenshot

FORM_NOTEBOOK = REPO / "notebooks" / "form.ipynb"

#: What the emulator adds to a stored environment; everything else is the request body.
SERVER_FIELDS = {"id", "type", "status", "archived_at", "created_at", "updated_at"}
#: What the emulator stores for optional fields a body leaves out.
SERVER_DEFAULTS: dict[str, Any] = {"description": "", "metadata": {}}


def form_cells(*, through_first_form: bool = False) -> list[dict[str, Any]]:
    """The opening cells of ``notebooks/form.ipynb``, unchanged: those before the first cell
    that submits from code (Run All of the whole file would also create environments from code,
    in its "Submitting" section), or with ``through_first_form`` only those up to its empty form
    (``%qoder_env``), for the tests that need just that form.
    """
    cells: list[dict[str, Any]] = json.loads(FORM_NOTEBOOK.read_text())["cells"]
    sources = ["".join(cell["source"]).strip() for cell in cells]
    assert "%qoder_env" in sources, "notebooks/form.ipynb no longer opens an empty form"
    if through_first_form:
        return cells[: sources.index("%qoder_env") + 1]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and ".click()" in sources[index]:
            return cells[:index]
    return cells


# Scenario 1: every field of the form, and the body it must send.
EVERY_FIELD: dict[str, Any] = {
    "name": "browser-made",
    "description": "Made in a browser: every field of the form filled in",
    "networking": "allowlist",
    "allowed_hosts": ["pypi.org", "files.pythonhosted.org"],
    "apt": ["curl", "git"],
    "pip": ["pandas>=2", "numpy"],
    "npm": ["typescript@5.0.0"],
    "setup_script": "set -e\necho ready > /tmp/ready",
    "metadata": [("team", "research"), ("owner", "browser-tests")],
    "variable": "browser_env",
}
EVERY_FIELD_BODY: dict[str, Any] = {
    "name": "browser-made",
    "description": "Made in a browser: every field of the form filled in",
    "config": {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org", "files.pythonhosted.org"],
            "allow_package_managers": True,
        },
        "packages": {
            "apt": ["curl", "git"],
            "pip": ["pandas>=2", "numpy"],
            "npm": ["typescript@5.0.0"],
        },
        "setup_script": "set -e\necho ready > /tmp/ready",
    },
    "metadata": {"team": "research", "owner": "browser-tests"},
}


def _dashed(trait: str) -> str:
    return trait.replace("_", "-")


class Form:
    """One ``.qoder-form`` on the page, reached through its stable CSS classes."""

    def __init__(self, root: Locator) -> None:
        self.root = root

    def widget(self, trait: str) -> Locator:
        return self.root.locator(f".qoder-form-{_dashed(trait)}")

    def input(self, trait: str) -> Locator:
        return self.widget(trait).locator("input, textarea, select").first

    def row(self, trait: str) -> Locator:
        return self.root.locator(f".qoder-form-row-{_dashed(trait)}")

    def problem(self, trait: str) -> Locator:
        return self.root.locator(f".qoder-form-problem-{_dashed(trait)}")

    def tags(self, trait: str) -> Locator:
        return self.widget(trait).locator(".jupyter-widget-tag:not(input)")

    def help(self, trait: str) -> Locator:
        """The line of help under a field."""
        return self.root.locator(f".qoder-form-help-{_dashed(trait)}")

    def section(self, key: str) -> Locator:
        """A titled section: basics, network, packages, setup, metadata or result."""
        return self.root.locator(f".qoder-form-section-{key}")

    def status_of(self, kind: str) -> Locator:
        """The status when it is of ``kind``: ok, error, warn or busy (and stale, once the
        spec has changed since)."""
        return self.status.locator(f".qoder-form-status-{kind}")

    @property
    def result(self) -> Locator:
        return self.root.locator(".qoder-form-result")

    @property
    def metadata_rows(self) -> Locator:
        return self.root.locator(".qoder-form-metadata-row")

    def metadata_texts(self) -> list[tuple[str, str]]:
        """What each metadata row's key and value boxes hold, as shown."""
        rows = self.metadata_rows
        return [
            (rows.nth(i).locator("input").nth(0).input_value(),
             rows.nth(i).locator("input").nth(1).input_value())
            for i in range(rows.count())
        ]  # fmt: skip

    def metadata_values_cut(self) -> list[str]:
        """The metadata values that do not show whole in their box (the box scrolls them)."""
        found: list[str] = self.metadata_rows.locator("input").evaluate_all(
            "(boxes) => boxes.filter((box) => box.scrollWidth > box.clientWidth + 1)"
            ".map((box) => `${box.value} (${box.scrollWidth} px in ${box.clientWidth} px)`)"
        )
        return found

    def assert_nothing_clipped(self, where: str) -> None:
        """Nothing in the form is cut off, spills out of it, or has a huge line height."""
        problems = clipped(self.root)
        assert problems == [], f"{where}: " + "; ".join(problems)

    @property
    def summary(self) -> Locator:
        return self.widget("summary")

    @property
    def submit_button(self) -> Locator:
        return self.widget("submit_button")

    @property
    def status(self) -> Locator:
        return self.widget("status")

    @property
    def card(self) -> Locator:
        return self.root.locator(".qoder-form-result .qoder-env")

    def preview_tab(self, title: str) -> Locator:
        """The content of the preview tab called ``title`` (clicking its tab shows it)."""
        titles = self.preview_titles()
        assert title in titles, f"no preview tab {title!r}: the tabs are {titles}"
        return self.widget("preview").locator(".widget-tab-contents > *").nth(titles.index(title))

    def preview_titles(self) -> list[str]:
        labels = self.widget("preview").locator(".lm-TabBar-tab .lm-TabBar-tabLabel")
        return labels.all_inner_texts()

    def show_preview(self, title: str) -> Locator:
        self.widget("preview").locator(".lm-TabBar-tab", has_text=title).click()
        tab = self.preview_tab(title)
        expect(tab).to_be_visible()
        return tab

    # --- typing ----------------------------------------------------------------------------------

    def type_name(self, name: str) -> None:
        """Type the name; wait until the kernel has it (the summary names it)."""
        self.input("name").fill(name)
        if name:
            expect(self.summary).to_have_text(f"Ready to create {name}.")

    def add_tags(self, trait: str, tags: list[str]) -> None:
        """Type each tag into the tags box and leave it with Tab, as a person adds tags.

        Not Enter: ipywidgets' TagsInput adds a tag on the input's ``change`` event, and in
        JupyterLab 4.6 / Notebook 7.6 with Chromium 156 Enter in that box fires none (a plain
        ``TagsInput()`` behaves the same); leaving the box does fire it."""
        widget = self.widget(trait)
        box = widget.locator("input.jupyter-widget-taginput")
        had = self.tags(trait).all_inner_texts()  # the tags it already holds stay first
        for count, tag in enumerate(tags, start=len(had) + 1):
            # A click on the widget shows its box (hidden while it has tags and no focus) and
            # focuses it: the widget's own click handler.
            widget.click(position={"x": 2, "y": 2})
            expect(box).to_be_focused()
            box.fill(tag)
            box.press("Tab")
            expect(self.tags(trait)).to_have_count(count)
        expect(self.tags(trait)).to_have_text([*had, *tags])

    def add_metadata(self, pairs: list[tuple[str, str]]) -> None:
        rows = self.root.locator(".qoder-form-metadata-row")
        for index, (key, value) in enumerate(pairs):
            self.widget("add_metadata").click()
            expect(rows).to_have_count(index + 1)  # the kernel added the row
            rows.nth(index).locator("input").nth(0).fill(key)
            rows.nth(index).locator("input").nth(1).fill(value)

    def set_variable(self, variable: str) -> None:
        """Type the variable's name; wait until the kernel has it. It has no preview, so first
        an invalid name (the kernel shows a problem), then the real one (the problem goes)."""
        self.input("variable").fill("not a name")
        expect(self.problem("variable")).to_contain_text("valid Python variable name")
        self.input("variable").fill(variable)
        expect(self.problem("variable")).to_have_text("")

    def fill_every_field(self, values: dict[str, Any]) -> None:
        """Scenario 1's filling: every field, checking what a person sees on the way."""
        expect(self.summary).to_contain_text("1 problem to fix")
        expect(self.submit_button).to_be_disabled()
        self.set_variable(values["variable"])
        self.type_name(values["name"])
        self.input("description").fill(values["description"])
        # The allowed hosts appear only where they apply.
        expect(self.row("allowed_hosts")).to_be_hidden()
        self.input("networking").select_option(values["networking"])
        expect(self.row("allowed_hosts")).to_be_visible()
        self.add_tags("allowed_hosts", values["allowed_hosts"])
        self.input("allow_package_managers").check()
        for manager in ("apt", "pip", "npm"):
            self.add_tags(manager, values[manager])
        self.input("setup_script").fill(values["setup_script"])
        self.add_metadata(values["metadata"])

    def expect_preview_body(self, body: dict[str, Any]) -> None:
        """The JSON body tab shows exactly the body that will be sent (waits for the kernel)."""
        expect(self.preview_tab("JSON body")).to_have_text(
            json.dumps(body, indent=2, ensure_ascii=False)
        )

    def submit(self, name: str) -> str:
        """Click Create; wait for the success message and the card; the new environment's id."""
        expect(self.submit_button).to_be_enabled()
        self.submit_button.click()
        return self.wait_created(name)

    def wait_created(self, name: str, *, seconds: float = 15) -> str:
        created = re.compile(rf"Created '{re.escape(name)}' \(env_")
        expect(self.status).to_contain_text(created, timeout=seconds * 1000)
        expect(self.card).to_be_visible()
        expect(self.card.locator(".qoder-env-title")).to_contain_text(name)
        return self.card.locator(".qoder-env-id").inner_text().strip()


def body_of(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored environment without the fields the server adds: the request body it came from."""
    return {key: value for key, value in stored.items() if key not in SERVER_FIELDS}


def assert_holds_exactly(emulator: Emulator, bodies: dict[str, dict[str, Any]]) -> None:
    """The emulator stores exactly these environments (id -> request body), nothing else."""
    stored = {environment["id"]: body_of(environment) for environment in emulator.environments()}
    assert stored == bodies


def creates(emulator: Emulator) -> list[int | None]:
    """The status of every create request the emulator received."""
    return [
        record.status
        for record in emulator.requests
        if record.method == "POST" and record.path.endswith("/environments")
    ]


def create_with_every_field(notebook: NotebookUI, emulator: Emulator, *, screenshots: str) -> None:
    """Scenario 1 (JupyterLab and Notebook 7): Run All, fill every field of the empty form, check
    the preview, Create; the card, the kernel's variable and the emulator's one environment.
    Screenshots: ``{screenshots}-filled.png`` before Create, ``{screenshots}.png`` after."""
    notebook.run_all()
    form = Form(notebook.form(0))  # the empty form of `%qoder_env`

    form.fill_every_field(EVERY_FIELD)
    form.expect_preview_body(EVERY_FIELD_BODY)
    curl = form.show_preview("curl")
    expect(curl).to_contain_text("$QODER_PAT")
    expect(curl).to_contain_text(emulator.base_url)
    assert emulator.token not in curl.inner_text()
    form.show_preview("JSON body")
    screenshot(form.root, f"{screenshots}-filled.png")
    assert emulator.environments() == []  # nothing is sent before Create

    new_id = form.submit(EVERY_FIELD["name"])
    expect(form.status).to_contain_text(f"stored in {EVERY_FIELD['variable']}")
    screenshot(form.root, f"{screenshots}.png")

    assert_holds_exactly(emulator, {new_id: EVERY_FIELD_BODY})
    assert creates(emulator) == [201]
    # Every input is still as typed after the create.
    expect(form.input("name")).to_have_value(EVERY_FIELD["name"])
    expect(form.tags("pip")).to_have_text(EVERY_FIELD["pip"])

    found = notebook.evaluate(
        kind="type(browser_env).__name__",
        id="browser_env.id",
        data="__import__('json').dumps(browser_env.to_dict())",
    )
    assert found["kind"] == "'Environment'"
    assert found["id"] == repr(new_id)
    assert json.loads(ast.literal_eval(found["data"])) == emulator.environments()[0]

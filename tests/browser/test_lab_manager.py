"""The environment manager in JupyterLab, by mouse and keyboard: search, sort, pages, edit with
the diff, clone, a bulk archive and a delete, each confirmed in the widget; every action is checked
on the emulator's store. Screenshots in light and dark."""

from __future__ import annotations

import re
from typing import Any

import httpx

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import Locator, expect  # noqa: E402

from qoder_jupyter.emulator import Emulator  # noqa: E402
from tests.test_manager import seed  # noqa: E402

from .form_steps import Form  # noqa: E402
from .ui import NotebookUI, clipped, code_cell, screenshot  # noqa: E402

JUPYTER_APP = "lab"

CELLS = [code_cell("%load_ext qoder_jupyter"), code_cell("%qoder_env manage --rows 10")]


def _seed(emulator: Emulator, count: int) -> dict[str, str]:
    """``count`` environments (see ``seed``); their ids by name."""
    headers = {"Authorization": f"Bearer {emulator.token}"}
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as api:
        return {f"env-{i:02}": env_id for i, env_id in enumerate(seed(api, count))}


class Manager:
    def __init__(self, root: Locator) -> None:
        self.root = root

    @property
    def rows(self) -> Locator:
        return self.root.locator(".qoder-manager-row:visible")

    def expect_names(self, names: list[str]) -> None:
        expect(self.rows).to_have_count(len(names))
        expect(self.rows.locator(".qoder-manager-cell:first-child")).to_have_text(
            [_name_cell(name) for name in names]
        )

    def tick(self, name: str) -> None:
        cell = self.root.page.locator(".qoder-manager-cell:first-child", has_text=_name_cell(name))
        self.rows.filter(has=cell).locator("input[type=checkbox]").check()

    def button(self, name: str) -> Locator:
        return self.root.locator(f".qoder-manager-{name}")

    @property
    def status(self) -> Locator:
        return self.root.locator(".qoder-manager-status")

    def search(self, text: str) -> None:
        self.root.locator(".qoder-manager-search input").fill(text)


def _name_cell(name: str) -> re.Pattern[str]:
    """The first cell of a row: the name, then (on the next line) the id."""
    return re.compile(rf"^{re.escape(name)}\s*env_")


def _open(
    open_notebook: Any, emulator: Emulator, count: int
) -> tuple[NotebookUI, Manager, dict[str, str]]:
    ids = _seed(emulator, count)
    notebook = open_notebook(CELLS)
    notebook.run_all()
    manager = Manager(notebook.page.locator(".qoder-manager"))
    expect(manager.root.locator(".qoder-manager-summary")).to_have_text(
        f"1 to {min(count, 10)} of {count} environments"
    )
    return notebook, manager, ids


def test_search_sort_and_pages_by_mouse_and_keyboard(open_notebook, emulator, light_theme_after):
    notebook, manager, _ = _open(open_notebook, emulator, 25)
    manager.expect_names([f"env-{i:02}" for i in range(24, 14, -1)])  # newest first
    screenshot(manager.root, "manager-light.png")

    manager.root.get_by_role("button", name="Next").click()
    expect(manager.root.locator(".qoder-manager-page")).to_have_text("Page 2 of 3")
    manager.expect_names([f"env-{i:02}" for i in range(14, 4, -1)])

    manager.search("research env-1")  # every word: env-11, 13, 15, 17, 19
    manager.expect_names(["env-19", "env-17", "env-15", "env-13", "env-11"])
    expect(manager.root.locator(".qoder-manager-summary")).to_have_text(
        "1 to 5 of 5 environments (of 25 loaded)"
    )
    manager.root.get_by_role("button", name="Name", exact=True).click()
    manager.expect_names(["env-11", "env-13", "env-15", "env-17", "env-19"])
    # By keyboard alone: the focused sort button again reverses it; Space ticks a row.
    manager.root.get_by_role("button", name="Name ▲").focus()
    notebook.page.keyboard.press("Enter")
    manager.expect_names(["env-19", "env-17", "env-15", "env-13", "env-11"])
    manager.rows.first.locator("input[type=checkbox]").focus()
    notebook.page.keyboard.press("Space")
    expect(manager.button("card")).to_be_enabled()
    manager.button("card").click()
    expect(manager.root.locator(".qoder-manager-detail .qoder-env-title")).to_have_text(
        re.compile("env-19")
    )

    notebook.use_dark_theme()
    screenshot(manager.root, "manager-dark.png")
    notebook.set_width(800)
    assert clipped(manager.root) == []  # every column and button still whole at 800 px
    screenshot(manager.root, "manager-800-dark.png")


def test_edit_with_the_diff_and_clone(open_notebook, emulator):
    _, manager, ids = _open(open_notebook, emulator, 3)
    manager.tick("env-01")
    manager.button("edit").click()
    form = Form(manager.root.locator(".qoder-manager-detail .qoder-form"))
    expect(form.submit_button).to_have_text("Update environment")
    form.input("description").fill("Edited from the manager")
    changes = form.show_preview("Changes")
    expect(changes).to_contain_text("Edited from the manager")
    screenshot(manager.root, "manager-edit.png")
    form.submit_button.click()
    expect(form.status).to_contain_text("Updated 'env-01'", timeout=15_000)
    stored = {env["id"]: env for env in emulator.environments()}
    assert stored[ids["env-01"]]["description"] == "Edited from the manager"
    assert len(stored) == 3

    manager.button("clone").click()  # env-01 is still the one ticked
    form = Form(manager.root.locator(".qoder-manager-detail .qoder-form"))
    expect(form.input("name")).to_have_value("env-01-copy")
    form.submit_button.click()
    expect(form.status).to_contain_text("Created 'env-01-copy'", timeout=15_000)
    manager.expect_names(["env-01-copy", "env-02", "env-01", "env-00"])
    copy = next(env for env in emulator.environments() if env["name"] == "env-01-copy")
    assert copy["config"]["packages"] == {"pip": ["pkg1"]}
    assert copy["description"] == "Edited from the manager"


def test_bulk_archive_and_a_delete_each_confirmed(open_notebook, emulator):
    _, manager, ids = _open(open_notebook, emulator, 12)
    for name in ("env-11", "env-10", "env-09"):
        manager.tick(name)
    manager.button("archive").click()
    confirm = manager.root.locator(".qoder-manager-confirm")
    expect(confirm).to_contain_text("Archive 3 environments?")
    expect(confirm).to_contain_text("there is no unarchive")
    assert not [env for env in emulator.environments() if env.get("archived_at")]  # asked only
    screenshot(manager.root, "manager-confirm.png")
    manager.root.locator(".qoder-manager-confirm-button").click()
    expect(manager.status).to_contain_text("Archived 3 environments.", timeout=15_000)
    archived = {env["name"] for env in emulator.environments() if env.get("archived_at")}
    assert archived == {"env-11", "env-10", "env-09"}
    manager.expect_names([f"env-{i:02}" for i in range(8, -1, -1)])

    manager.tick("env-00")
    manager.button("delete").click()
    expect(confirm).to_contain_text("cannot be undone")
    manager.root.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert ids["env-00"] in {env["id"] for env in emulator.environments()}  # cancelled: kept
    manager.button("delete").click()
    manager.root.locator(".qoder-manager-confirm-button").click()
    expect(manager.status).to_contain_text("Deleted 1 environment.", timeout=15_000)
    assert ids["env-00"] not in {env["id"] for env in emulator.environments()}
    manager.expect_names([f"env-{i:02}" for i in range(8, 0, -1)])

"""Edit mode in JupyterLab: ``%qoder_env update env --form`` opens the form on the live
environment, the Changes tab shows the diff as the person edits, Update sends it, and the
emulator, the card and the kernel variable all hold the new state."""

from __future__ import annotations

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import expect  # noqa: E402

from .form_steps import Form  # noqa: E402
from .ui import code_cell, screenshot  # noqa: E402

JUPYTER_APP = "lab"

CELLS = [
    code_cell("%load_ext qoder_jupyter"),
    code_cell(
        '%qoder_env create --name to-edit --description "Before the edit" --pip numpy '
        "--meta team=research"
    ),
    code_cell("%qoder_env update env --form"),
    code_cell("print(env.description, env.config['packages'])"),
]


def test_the_form_edits_a_live_environment_showing_the_diff(open_notebook, emulator):
    notebook = open_notebook(CELLS)
    notebook.run_above(3)
    (stored,) = emulator.environments()
    form = Form(notebook.form(0))

    expect(form.submit_button).to_have_text("Update environment")
    expect(form.submit_button).to_be_disabled()  # nothing changed yet
    expect(form.input("description")).to_have_value("Before the edit")
    expect(form.preview_tab("Changes")).to_contain_text("No changes")

    form.input("description").fill("After the edit, made in the browser")
    form.add_tags("pip", ["pandas>=2"])
    changes = form.show_preview("Changes")
    expect(changes).to_contain_text("After the edit, made in the browser")
    expect(changes).to_contain_text("pandas>=2")
    expect(changes.locator(".qoder-env-diff-del").first).to_contain_text("Before the edit")
    expect(form.submit_button).to_be_enabled()
    screenshot(form.root, "form-edit-diff.png")  # the README's docs/form-edit-diff.png

    form.submit_button.click()
    expect(form.status).to_contain_text("Updated 'to-edit' (env_", timeout=15_000)
    expect(form.card.locator(".qoder-env-title")).to_contain_text("to-edit")
    expect(form.card).to_contain_text("After the edit, made in the browser")
    expect(form.preview_tab("Changes")).to_contain_text("No changes")  # the diff starts again

    (updated,) = emulator.environments()
    assert updated["id"] == stored["id"]  # updated in place, nothing created
    assert updated["description"] == "After the edit, made in the browser"
    assert updated["config"]["packages"]["pip"] == ["numpy", "pandas>=2"]
    assert updated["metadata"] == {"team": "research"}

    output = notebook.run_cell_and_wait(3)
    expect(output).to_contain_text(
        "After the edit, made in the browser {'pip': ['numpy', 'pandas>=2']}"
    )

"""The displays and the form's future as a person meets them in JupyterLab: a long list shows its
first and last rows, a dry run's code is set in a monospace font, a deleted environment's card
says so, and a click on Create can be awaited, or cancelled, from another cell."""

from __future__ import annotations

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import expect  # noqa: E402

from .form_steps import Form  # noqa: E402
from .ui import code_cell, screenshot  # noqa: E402

JUPYTER_APP = "lab"

MANY = 30  # more than the 20 rows a list shows by default

DISPLAY_CELLS = [
    code_cell("%load_ext qoder_jupyter"),
    code_cell(
        "from qoder_jupyter.client import Client\n"
        "with Client() as client:\n"
        f"    for i in range({MANY}):\n"
        "        client.environments.create(name=f'listed-{i:02}')\n"
    ),
    code_cell("%qoder_env list"),
    code_cell("%qoder_env create --name previewed --pip numpy --dry-run"),
    code_cell("%qoder_env create --name doomed -o doomed"),
    code_cell("%qoder_env delete doomed"),
]


def test_a_long_list_a_dry_run_and_a_deleted_card(open_notebook, emulator):
    notebook = open_notebook(DISPLAY_CELLS)
    notebook.run_all()

    listing = notebook.cell(2).locator(".qoder-env-list")
    expect(notebook.cell(2).locator(".qoder-env-summary")).to_have_text(
        f"{MANY} environments (showing the first 10 and the last 10)."
    )
    gap = listing.locator("tr.qoder-env-gap")
    expect(gap).to_have_count(1)
    expect(gap).to_contain_text(f"… 10 more not shown (the list holds all {MANY};")
    expect(listing.locator("tbody tr")).to_have_count(21)  # 20 rows and the gap
    expect(listing).to_contain_text("listed-29")  # newest first: the first rows
    expect(listing).to_contain_text("listed-00")  # and the last
    expect(listing).not_to_contain_text("listed-15")
    name_cell = listing.locator("tbody tr").first.locator("td").first
    assert name_cell.evaluate("td => getComputedStyle(td).whiteSpace") == "nowrap"
    screenshot(notebook.cell(2), "list-gap.png")

    blocks = notebook.cell(3).locator("pre.qoder-env-code")
    expect(blocks).to_have_count(3)  # the JSON body, curl and the magic line
    for index in range(3):
        font = blocks.nth(index).evaluate("pre => getComputedStyle(pre).fontFamily")
        assert "monospace" in font.lower(), font
    expect(blocks.first).to_contain_text('"name": "previewed"')
    screenshot(notebook.cell(3), "dry-run-code.png")

    deleted = notebook.cell(5).locator(".qoder-env-card")
    expect(deleted.locator(".qoder-env-badge")).to_have_text("deleted")
    expect(notebook.cell(5)).to_contain_text("doomed now shows it as deleted.")
    assert [env["name"] for env in emulator.environments() if env["name"] == "doomed"] == []
    screenshot(deleted, "card-deleted.png", margin=16)


LATENCY = 3.0

FORM_CELLS = [
    code_cell("%load_ext qoder_jupyter"),
    code_cell(
        "import qoder_jupyter\n"
        "form = qoder_jupyter.form(qoder_jupyter.EnvironmentSpec(name='awaited'))\n"
        "form"
    ),
    code_cell(
        "import asyncio\n"
        "same_loop = form.pending.loop is asyncio.get_running_loop()\n"
        "await form.pending\n"
        "print('awaited on the cells loop:', same_loop, '| env is', env.name)"
    ),
    code_cell("form.cancel()\nawait form.pending\nprint('cancelled')"),
]


def test_a_click_on_create_is_awaited_and_cancelled_from_other_cells(open_notebook, emulator):
    notebook = open_notebook(FORM_CELLS)
    notebook.run_above(2)
    form = Form(notebook.form(0))
    expect(form.summary).to_have_text("Ready to create awaited.")
    emulator.latency = LATENCY

    form.submit_button.click()
    expect(form.status.locator(".qoder-form-status-busy")).to_contain_text("Creating 'awaited'…")
    output = notebook.run_cell_and_wait(2)
    expect(output).to_contain_text("awaited on the cells loop: True | env is awaited")
    expect(output).not_to_contain_text("different loop")
    form.wait_created("awaited")

    form.type_name("cancelled-one")
    form.submit_button.click()
    expect(form.status.locator(".qoder-form-status-busy")).to_contain_text(
        "Creating 'cancelled-one'…"
    )
    output = notebook.run_cell_and_wait(3)
    expect(output).to_contain_text("cancelled")
    expect(output).not_to_contain_text("Error")
    expect(form.status).to_contain_text("Cancelled after")
    expect(form.submit_button).to_be_enabled()

"""The form in JupyterLab: ``notebooks/form.ipynb`` opened, Run All, filled and submitted by a
browser; each test checks what a person sees and what the emulator stored."""

from __future__ import annotations

import time

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import expect  # noqa: E402

from .form_steps import (  # noqa: E402
    SERVER_DEFAULTS,
    Form,
    assert_holds_exactly,
    body_of,
    create_with_every_field,
    creates,
    form_cells,
)
from .ui import code_cell, screenshot  # noqa: E402

JUPYTER_APP = "lab"


def test_every_field_filled_in_the_browser_creates_that_body(open_notebook, emulator):
    create_with_every_field(open_notebook(form_cells()), emulator, screenshots="form")


def test_invalid_name_then_duplicate_then_fixed(open_notebook, emulator, api):
    api.post(
        "/environments", json={"name": "taken-name", "config": {"type": "cloud"}}
    ).raise_for_status()
    [(taken_id, taken_body)] = [(e["id"], body_of(e)) for e in emulator.environments()]
    notebook = open_notebook(form_cells(through_first_form=True))
    notebook.run_all()
    form = Form(notebook.form(0))

    # An empty name: Submit stays disabled, the message is next to the field.
    form.type_name("x")
    expect(form.submit_button).to_be_enabled()
    form.type_name("")
    expect(form.problem("name")).to_have_text("⚠ The name is empty: give the environment a name.")
    expect(form.summary).to_have_text(
        "1 problem to fix before submitting (shown next to each field)."
    )
    expect(form.submit_button).to_be_disabled()

    # A taken name: the service's 409 in the form, every input kept.
    form.type_name("taken-name")
    form.input("description").fill("kept through a 409")
    form.input("networking").select_option("unrestricted")
    form.add_tags("pip", ["numpy"])
    form.add_metadata([("team", "qa")])
    body = {
        "name": "taken-name",
        "description": "kept through a 409",
        "config": {
            "type": "cloud",
            "networking": {"type": "unrestricted"},
            "packages": {"pip": ["numpy"]},
        },
        "metadata": {"team": "qa"},
    }
    form.expect_preview_body(body)
    form.submit_button.click()
    expect(form.status).to_contain_text("Not created.")
    expect(form.status).to_contain_text("409")
    expect(form.status).to_contain_text("An environment named 'taken-name' already exists")
    expect(form.status.locator(".qoder-form-status-error")).to_be_visible()
    screenshot(form.root, "form-error.png")
    expect(form.card).to_have_count(0)
    expect(form.input("name")).to_have_value("taken-name")
    expect(form.input("description")).to_have_value("kept through a 409")
    expect(form.input("networking")).to_have_value("unrestricted")
    expect(form.tags("pip")).to_have_text(["numpy"])
    metadata = form.root.locator(".qoder-form-metadata-row input")
    expect(metadata).to_have_count(2)
    assert [metadata.nth(i).input_value() for i in range(2)] == ["team", "qa"]
    form.expect_preview_body(body)
    expect(form.submit_button).to_be_enabled()
    assert_holds_exactly(emulator, {taken_id: taken_body})

    # Fixing the name and submitting again succeeds, with everything else as typed.
    form.type_name("fresh-name")
    new_id = form.submit("fresh-name")
    assert_holds_exactly(emulator, {taken_id: taken_body, new_id: {**body, "name": "fresh-name"}})
    assert creates(emulator)[-2:] == [409, 201]


def test_double_click_creates_one_environment(open_notebook, emulator):
    notebook = open_notebook(form_cells(through_first_form=True))
    notebook.run_all()
    form = Form(notebook.form(0))
    form.type_name("clicked-twice")
    # A service that takes a second, as a real one may: the second click of a person's double
    # click (100-300 ms later) lands while the first create is in flight.
    emulator.latency = 1.0

    form.submit_button.dblclick()
    new_id = form.wait_created("clicked-twice")
    # Both clicks reached the kernel within milliseconds, a second before the service answered:
    # the second was dropped while the first was in flight. Had it been taken for a new create
    # once the first was over, the button would be disabled again and the status a 409.
    expect(form.submit_button).to_be_enabled()
    expect(form.status).to_contain_text("Created 'clicked-twice'")
    assert notebook.evaluate(id="env.id")["id"] == repr(new_id)
    stored = {"name": "clicked-twice", "config": {"type": "cloud"}, **SERVER_DEFAULTS}
    assert_holds_exactly(emulator, {new_id: stored})
    assert creates(emulator) == [201]  # the second click sent nothing


# Slow enough that the other cell must finish long before the service answers.
LATENCY = 4.0

# Run All runs it once (nothing pending); run again while the submit waits for the service, it
# shows the kernel's own view: the form's create task is pending. (In JupyterLab 4.6 the widget's
# click is handled in a kernel subshell, so the task is on that subshell's event loop, not in
# this cell's asyncio.all_tasks(); the form's own `pending` task is what to ask.)
IN_FLIGHT_CELL = """import gc

from qoder_jupyter.forms import EnvironmentForm

[
    form.spec.name
    for form in gc.get_objects()
    if isinstance(form, EnvironmentForm) and form.pending is not None and not form.pending.done()
]
"""


def test_another_cell_runs_while_a_submit_is_in_flight(open_notebook, emulator):
    cells = form_cells(through_first_form=True)
    notebook = open_notebook([*cells, code_cell(IN_FLIGHT_CELL)])
    notebook.run_all()
    other = notebook.cell(len(cells))
    expect(other.locator(".jp-OutputArea-output")).to_have_text("[]")
    form = Form(notebook.form(0))
    form.type_name("slow-service")
    emulator.latency = LATENCY

    form.submit_button.click()
    clicked = time.monotonic()
    expect(form.status.locator(".qoder-form-status-busy")).to_contain_text(
        "Creating 'slow-service'…"
    )
    notebook.run_cell(len(cells))
    expect(other.locator(".jp-OutputArea-output")).to_have_text("['slow-service']")
    # What a person sees the moment the other cell is done: the form still busy, Cancel offered.
    other_done = time.monotonic() - clicked
    still_busy = form.status.locator(".qoder-form-status-busy").is_visible()
    cancel_offered = form.widget("cancel_button").is_visible()
    stored_meanwhile = emulator.environments()
    assert other_done < LATENCY, f"the other cell took {other_done:.1f} s"
    assert still_busy
    assert cancel_offered
    assert stored_meanwhile == []  # the service had not answered yet

    new_id = form.wait_created("slow-service", seconds=LATENCY + 30)
    assert time.monotonic() - clicked >= LATENCY
    stored = {"name": "slow-service", "config": {"type": "cloud"}, **SERVER_DEFAULTS}
    assert_holds_exactly(emulator, {new_id: stored})

"""The form as a person meets it in JupyterLab: its layout from 1,400 down to 600 pixels in the
light and the dark theme, a duplicate metadata key, the tag boxes, a status that no longer
describes the spec, and where the card lands after Create. Each test checks the page and what the
emulator stored."""

from __future__ import annotations

import re

from .requirements import require_browser

require_browser()  # before anything that imports Playwright

from playwright.sync_api import expect  # noqa: E402

from .form_steps import (  # noqa: E402
    SERVER_DEFAULTS,
    Form,
    assert_holds_exactly,
    body_of,
    creates,
    form_cells,
)
from .ui import WIDTHS, NotebookUI, code_cell, in_viewport, screenshot  # noqa: E402

JUPYTER_APP = "lab"

#: Longer than the description box is wide at 600 px: it must wrap, not be cut.
DESCRIPTION = (
    "A long description that a person writes to say what the environment is for, long enough to "
    "wrap on a narrow screen"
)
#: A value wider than its box at 800 px once the row is laid out beside its key.
LONG_VALUE = "research-and-development-of-the-browser-tests"


def _open_form(open_notebook, extra_cells=()) -> tuple[NotebookUI, Form]:
    """The empty form of ``notebooks/form.ipynb``, run; ``extra_cells`` after it are not run."""
    cells = form_cells(through_first_form=True)
    notebook = open_notebook([*cells, *extra_cells])
    if extra_cells:
        notebook.run_above(len(cells))
    else:
        notebook.run_all()
    return notebook, Form(notebook.form(0))


def test_the_form_reflows_at_every_width_in_light_and_dark(
    open_notebook, emulator, light_theme_after
):
    notebook, form = _open_form(open_notebook)
    for key in ("basics", "network", "packages", "setup", "metadata", "result"):
        expect(form.section(key)).to_be_visible()
    form.type_name("reflowing")
    form.input("description").fill(DESCRIPTION)
    form.input("networking").select_option("allowlist")
    expect(form.widget("networking_help")).to_contain_text("Only the allowed hosts")
    form.add_tags("allowed_hosts", ["pypi.org"])
    form.input("allow_package_managers").check()
    form.add_tags("pip", ["pandas>=2", "numpy"])
    form.add_metadata([("team", LONG_VALUE), ("owner", "browser-tests")])
    # A problem shown next to its field, so its text is measured too.
    form.add_tags("allowed_hosts", ["https://example.com/simple"])
    expect(form.problem("allowed_hosts")).not_to_have_text("")

    cut = []
    for theme in ("light", "dark"):
        if theme == "dark":
            notebook.use_dark_theme()
        for width in WIDTHS:
            notebook.set_width(width, height=2600)  # tall enough for the whole form
            # Every problem at every width and theme, not only the first one found.
            try:
                form.assert_nothing_clipped(f"{width} px, {theme}")
            except AssertionError as problem:
                cut.append(str(problem))
            # A text box scrolls what does not fit; from 800 px up the values fit whole.
            if width >= 800 and (values := form.metadata_values_cut()):
                cut.append(f"{width} px, {theme}: metadata values cut: {values}")
            screenshot(form.root, f"form-{width}-{theme}.png")
    assert cut == []
    # Laying out sent nothing, and the form still holds what was typed.
    assert emulator.environments() == []
    expect(form.input("description")).to_have_value(DESCRIPTION)
    assert form.metadata_texts() == [("team", LONG_VALUE), ("owner", "browser-tests")]


def test_a_duplicate_metadata_key_is_flagged_and_both_rows_kept(open_notebook, emulator):
    _, form = _open_form(open_notebook)
    form.type_name("duplicated")

    form.add_metadata([("team", "research"), ("team", "x")])

    problem = form.problem("metadata")
    expect(problem).to_contain_text("'team'")
    expect(problem).to_contain_text("rows 1 and 2")
    expect(form.summary).to_contain_text("1 problem to fix")
    expect(form.submit_button).to_be_disabled()
    assert form.metadata_texts() == [("team", "research"), ("team", "x")]
    duplicate = re.compile(r"\bqoder-form-metadata-duplicate\b")
    expect(form.metadata_rows.nth(0)).to_have_class(duplicate)
    expect(form.metadata_rows.nth(1)).to_have_class(duplicate)
    form.assert_nothing_clipped("a duplicate key shown")
    screenshot(form.root, "form-duplicate-metadata.png")
    assert emulator.environments() == []

    # Renaming one key: the problem goes, both pairs are sent.
    form.metadata_rows.nth(1).locator("input").nth(0).fill("owner")
    expect(problem).to_have_text("")
    expect(form.summary).to_have_text("Ready to create duplicated.")
    new_id = form.submit("duplicated")
    stored = {
        "name": "duplicated",
        "config": {"type": "cloud"},
        **SERVER_DEFAULTS,
        "metadata": {"team": "research", "owner": "x"},
    }
    assert_holds_exactly(emulator, {new_id: stored})


def test_every_tag_box_says_how_to_add_an_entry_and_enter_loses_nothing(open_notebook, emulator):
    _, form = _open_form(open_notebook)
    form.type_name("tagged")
    form.input("networking").select_option("allowlist")
    # ipywidgets' TagsInput adds an entry on Tab or on leaving the box, not on Enter: the form
    # says so under every tag box.
    for trait in ("allowed_hosts", "apt", "pip", "npm"):
        hint = form.help(trait)
        expect(hint).to_be_visible()
        expect(hint).to_contain_text("Press Tab or click outside the box to add each entry.")
        expect(form.row(trait).locator(".qoder-form-help-tags")).to_be_visible()

    # Enter in the pip box: the text stays there, and the Tab the hint names adds it once.
    widget = form.widget("pip")
    box = widget.locator("input.jupyter-widget-taginput")
    widget.click(position={"x": 2, "y": 2})
    box.fill("requests")
    box.press("Enter")
    expect(box).to_have_value("requests")
    box.press("Tab")
    expect(form.tags("pip")).to_have_text(["requests"])
    # Leaving the box by clicking outside it adds an entry too.
    widget.click(position={"x": 2, "y": 2})
    box.fill("numpy")
    form.summary.click()
    expect(form.tags("pip")).to_have_text(["requests", "numpy"])

    form.add_tags("allowed_hosts", ["pypi.org"])
    new_id = form.submit("tagged")
    [stored] = emulator.environments()
    assert stored["id"] == new_id
    assert stored["config"]["packages"] == {"pip": ["requests", "numpy"]}
    assert stored["config"]["networking"]["allowed_hosts"] == ["pypi.org"]


def test_a_409_marked_stale_after_a_rename_then_the_card_where_the_eye_is(open_notebook, emulator):
    notebook, form = _open_form(
        open_notebook, [code_cell("%qoder_env create --name taken -o first")]
    )
    notebook.run_cell_and_wait(notebook.page.locator(".jp-Notebook .jp-Cell").count() - 1)
    [(taken_id, taken)] = [(e["id"], body_of(e)) for e in emulator.environments()]
    assert taken["name"] == "taken"

    form.type_name("taken")
    form.add_tags("pip", ["numpy"])
    form.submit_button.click()
    error = form.status_of("error")
    expect(error).to_contain_text("Not created.")
    expect(error).to_contain_text("409")
    expect(error).to_contain_text("'taken'")
    expect(form.status_of("stale")).to_have_count(0)

    # Renamed: the 409 is about a name the form no longer sends, and says so.
    form.input("name").fill("fresh")
    expect(form.summary).to_have_text("Ready to create fresh.")
    expect(form.status_of("stale")).to_be_visible()
    expect(form.status_of("stale")).to_contain_text("Earlier, for 'taken':")
    notebook.set_width(800, height=1600)
    form.assert_nothing_clipped("a stale 409 at 800 px")
    screenshot(form.root, "form-stale-status.png")
    assert_holds_exactly(emulator, {taken_id: taken})

    # Create, in a window of a laptop's height: the card shows without scrolling, above the
    # preview, which folds away.
    notebook.set_width(1400, height=900)
    new_id = form.submit("fresh")
    expect(form.status_of("stale")).to_have_count(0)
    card = form.card.locator(".qoder-env-card")
    expect(card).to_be_in_viewport()
    assert in_viewport(form.card.locator(".qoder-env-title")), "the card's title is off-screen"
    preview = form.widget("preview")
    expect(preview).to_be_hidden()  # folded: one click on its title opens it again
    result_box = form.result.bounding_box()
    preview_box = form.widget("preview_box").bounding_box()
    assert result_box is not None
    assert preview_box is not None
    assert result_box["y"] < preview_box["y"], "the card is not above the preview"
    screenshot(notebook.page, "form-after-create.png")  # the window, as the person sees it
    form.widget("preview_box").locator(".jupyter-widget-Collapse-header").click()
    expect(preview).to_be_visible()

    body = {"name": "fresh", "config": {"type": "cloud", "packages": {"pip": ["numpy"]}}}
    assert_holds_exactly(emulator, {taken_id: taken, new_id: {**body, **SERVER_DEFAULTS}})
    assert creates(emulator)[-2:] == [409, 201]

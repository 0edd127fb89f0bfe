"""The form as a user meets it: its sections and help lines, duplicate metadata keys, a status
that goes stale, where the created environment shows, the saved output for frontends without
widgets, and Colab's widget manager. Driven from Python against the emulator over real HTTP."""

from __future__ import annotations

import html
import re
import sys
import types
from pathlib import Path
from typing import Any

import ipywidgets
import pytest

from qoder_jupyter import _frontend, _markup, forms
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.forms import EnvironmentForm
from tests.test_form import make_form, status, submit, text


@pytest.fixture
def namespace() -> dict[str, Any]:
    return {}


@pytest.fixture
def form(emulator: Emulator, namespace: dict[str, Any]) -> EnvironmentForm:
    return make_form(emulator, namespace)


def by_class(root: ipywidgets.Widget, name: str) -> list[ipywidgets.Widget]:
    """Every widget under ``root`` (itself included) carrying the CSS class ``name``."""
    found = [root] if name in getattr(root, "_dom_classes", ()) else []
    for child in getattr(root, "children", ()):
        found.extend(by_class(child, name))
    return found


def one(root: ipywidgets.Widget, name: str) -> ipywidgets.Widget:
    [widget] = by_class(root, name)
    return widget


def add_metadata(form: EnvironmentForm, *pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        form.add_metadata.click()
        row = form.metadata_rows.children[-1]
        row.children[0].value, row.children[1].value = key, value


# --- sections and help ---------------------------------------------------------------------------


def test_the_sections_come_in_order_each_with_its_heading_and_fields(form):
    sections = ["basics", "network", "packages", "setup", "metadata", "result"]
    found = [one(form.widget, f"qoder-form-section-{key}") for key in sections]
    order = [child for child in form.widget.children if child in found]
    assert order == found
    headings = [text(section.children[0]) for section in found]
    assert headings == [
        '<div class="qoder-form-heading">' + title + "</div>"
        for title in ("Basics", "Network", "Packages", "Setup", "Metadata", "Result")
    ]
    assert by_class(found[0], "qoder-form-name") == [form.name]
    assert by_class(found[1], "qoder-form-allowed-hosts") == [form.allowed_hosts]
    assert by_class(found[2], "qoder-form-pip") == [form.pip]
    assert by_class(found[5], "qoder-form-submit-button") == [form.submit_button]


def test_the_stylesheet_ships_with_the_form(form):
    assert form.stylesheet.value.startswith("<style>.qoder-form {")
    assert ".qoder-form-status-stale" in form.stylesheet.value
    assert form.stylesheet.layout.display == "none"  # applies, takes no room
    css = _markup.uncommented(
        (Path(forms.__file__).parent / "static" / "form.css").read_text(encoding="utf-8")
    )
    # Joining the lines is safe only while each ends a selector or a declaration.
    assert all(line.rstrip()[-1:] in ",;{}" for line in css.splitlines() if line.strip())
    selectors = re.findall(r"(?:^|})\s*([^{}@]+)\{", css)
    parts = [part.strip() for selector in selectors for part in selector.split(",")]
    assert all(part.startswith(".qoder-form") for part in parts)  # nothing outside the form
    assert not re.search(r"background:\s*#", css)  # tints only, never a colour of its own


def test_each_tag_box_says_how_to_add_an_entry(form):
    hints = by_class(form.widget, "qoder-form-help-tags")
    for trait in ("allowed_hosts", "apt", "pip", "npm", "cargo", "gem", "go"):
        [hint] = by_class(form.widget, f"qoder-form-help-{trait.replace('_', '-')}")
        assert hint in hints
        assert "Press Tab or click outside the box to add each entry." in text(hint)
    assert len(hints) == 7


def test_the_hosts_help_says_bare_names_and_the_checkbox_says_what_it_allows(form):
    hosts = text(one(form.widget, "qoder-form-help-allowed-hosts"))
    assert "Bare host names" in hosts
    assert "no scheme, no path" in hosts
    managers = text(one(form.widget, "qoder-form-help-allow-package-managers"))
    assert "apt, pip and npm" in managers
    assert "registries" in managers


def test_the_networking_help_follows_the_choice(form):
    seen = {}
    for choice in ("", "unrestricted", "limited", "allowlist"):
        form.networking.value = choice
        seen[choice] = text(form.networking_help)
    assert "applies <b>limited</b>" in seen[""]
    assert "Any host on the internet" in seen["unrestricted"]
    assert "restricted default" in seen["limited"]
    assert "Only the allowed hosts below" in seen["allowlist"]
    assert len(set(seen.values())) == 4


# --- duplicate metadata keys (bug 2) -------------------------------------------------------------


def test_duplicate_metadata_keys_are_flagged_block_submit_and_lose_nothing(form):
    form.name.value = "dup"
    add_metadata(form, ("team", "research"), ("owner", "ana"), ("team", "x"))
    problem = text(form.problems["metadata"])
    assert "'team' is in rows 1 and 3" in problem
    assert "1 problem to fix" in text(form.summary)
    assert form.submit_button.disabled
    rows = form.metadata_rows.children
    assert [(r.children[0].value, r.children[1].value) for r in rows] == [
        ("team", "research"),
        ("owner", "ana"),
        ("team", "x"),
    ]
    marked = [r for r in rows if "qoder-form-metadata-duplicate" in r._dom_classes]
    assert marked == [rows[0], rows[2]]
    assert by_class(form.widget, "qoder-form-problem-metadata") == [form.problems["metadata"]]
    rows[2].children[0].value = "group"  # fixed: the problem goes, Submit comes back
    assert text(form.problems["metadata"]) == ""
    assert not form.submit_button.disabled
    assert form.spec.metadata == {"team": "research", "owner": "ana", "group": "x"}
    assert not by_class(form.metadata_rows, "qoder-form-metadata-duplicate")


def test_a_duplicate_that_leaves_the_spec_unchanged_is_still_flagged(form):
    form.name.value = "dup"
    add_metadata(form, ("team", "x"))
    form.add_metadata.click()
    row = form.metadata_rows.children[-1]
    row.children[1].value = "x"
    row.children[0].value = "team"  # {"team": "x"} before and after: the spec announces nothing
    assert "rows 1 and 2" in text(form.problems["metadata"])
    assert form.submit_button.disabled


# --- a stale status (bug 4) ----------------------------------------------------------------------


def test_a_conflict_is_marked_stale_once_the_name_changes(form, emulator):
    form.name.value = "old-name"
    submit(form)
    submit(form)  # 409
    assert "409" in status(form)
    assert "qoder-form-status-stale" not in form.status.value
    form.name.value = "new-name"
    assert "Ready to create <b>new-name</b>" in text(form.summary)
    assert "qoder-form-status-error qoder-form-status-stale" in form.status.value
    assert status(form).startswith(
        '<div class="qoder-form-status-error qoder-form-status-stale"><b>Earlier, for '
        "'old-name':</b> Not created. 409"
    )
    form.name.value = "old-name"  # back to what the status is about: current again
    assert "qoder-form-status-stale" not in form.status.value


def test_another_change_than_the_name_marks_it_too(form):
    form.name.value = "made"
    submit(form)
    assert "Created 'made'" in status(form)
    form.pip.value = ["numpy"]
    assert "<b>Earlier, before your latest changes:</b> Created 'made'" in status(form)


# --- the result where the eye is (bug 5) ---------------------------------------------------------


def test_the_card_shows_under_the_status_and_the_preview_folds(form, namespace):
    form.name.value = "shown"
    assert form.preview_box.selected_index == 0  # the preview is open while typing
    submit(form)
    section = one(form.widget, "qoder-form-section-result").children
    assert section.index(form.status) + 1 == section.index(form.result)
    assert section.index(form.result) < section.index(form.preview_box)
    assert form.preview_box.selected_index is None
    [output] = form.result.outputs
    assert "shown" in output["data"]["text/plain"]
    assert namespace["env"].name == "shown"
    form.preview_box.selected_index = 0  # the user can open it again
    assert form.preview_box.children == (form.preview,)


# --- saved output without widgets ----------------------------------------------------------------


def test_the_saved_output_says_what_it_was_and_gives_the_magic(form):
    form.name.value = "saved <one>"
    form.pip.value = ["pandas>=2"]
    bundle = form._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == form.widget.model_id
    magic = form.spec.to_magic()
    assert bundle["text/plain"] == (
        "qoder_jupyter form for 'saved <one>': it needs a running kernel to show.\n"
        f"The same environment as code:\n{magic}"
    )
    page = bundle["text/html"]
    assert "saved &lt;one&gt;" in page
    assert "<one>" not in page
    assert f"<pre>{_escaped(magic)}</pre>" in page


def _escaped(value: str) -> str:
    return html.escape(value, quote=True)


# --- Colab ---------------------------------------------------------------------------------------


@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stand-in for Colab's ``google.colab.output`` (Colab cannot run here): records calls."""
    calls: list[str] = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enabled")  # type: ignore[attr-defined]
    colab_module = types.ModuleType("google.colab")
    colab_module.output = output  # type: ignore[attr-defined]
    google = types.ModuleType("google")
    google.colab = colab_module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab_module)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    return calls


def test_outside_colab_nothing_is_done(form):
    assert "google.colab" not in sys.modules
    assert _frontend.prepare_widgets() is None
    assert form.frontend_note.value == ""


def test_in_colab_the_form_turns_on_the_custom_widget_manager(colab, emulator, namespace):
    form = make_form(emulator, namespace)
    assert colab == ["enabled"]
    assert form.frontend_note.value == ""


def test_in_colab_a_failure_is_said_in_one_line_with_the_fix(colab, emulator, namespace):
    def broken() -> None:
        raise RuntimeError("no frontend")

    sys.modules["google.colab.output"].enable_custom_widget_manager = broken  # type: ignore[attr-defined]
    form = make_form(emulator, namespace)
    note = text(form.frontend_note)
    assert "custom widget manager could not be turned on (RuntimeError: no frontend)" in note
    assert "output.enable_custom_widget_manager()" in note
    assert form.frontend_note.value in form._repr_mimebundle_()["text/html"]  # also when saved

"""The form's "Import packages" section, clicked as a user clicks it: real files written to disk,
the kernel's real ``importlib.metadata``, results read from the widgets and from ``form.spec``."""

from __future__ import annotations

import html
import importlib.metadata
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from qoder_jupyter import sources
from qoder_jupyter.forms import EnvironmentForm
from qoder_jupyter.spec import EnvironmentSpec

REQUIREMENTS = """\
# what the notebook needs
requests>=2.31
numpy==1.26.4  # pinned for the model
-e ./mylib
"""

PACKAGE_JSON = {
    "name": "site",
    "dependencies": {"typescript": "^5.4.0"},
    "devDependencies": {"eslint": "^9.0.0"},
}

PYPROJECT = """\
[project]
name = "analysis"
version = "1"
dependencies = ["pandas>=2"]

[project.optional-dependencies]
excel = ["openpyxl>=3"]

[dependency-groups]
test = ["pytest>=8"]
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel's working directory: relative paths in the form are read from here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def form() -> EnvironmentForm:
    return EnvironmentForm(EnvironmentSpec(name="imported", pip=["scipy"]))


def shown(form: EnvironmentForm) -> dict[str, str]:
    """The one bundle the import's output shows (plain text, HTML unescaped)."""
    [output] = form.import_result.outputs
    assert output["output_type"] == "display_data"
    data = output["data"]
    return {"text": data["text/plain"], "html": html.unescape(data["text/html"])}


def import_files(form: EnvironmentForm, files: str, **options: Any) -> None:
    form.import_files.value = files
    form.import_extras.value = options.get("extras", "")
    form.import_groups.value = options.get("groups", "")
    form.import_dev.value = options.get("dev", False)
    form.import_button.click()


def pins(entries: list[str]) -> dict[str, str]:
    """``Name==Version`` entries by PEP 503 name."""
    found = {}
    for entry in entries:
        name, version = entry.split("==")
        found[str(canonicalize_name(name))] = version
    return found


# --- from files ----------------------------------------------------------------------------------


def test_a_requirements_file_fills_the_pip_list_and_reports_what_was_left_out(folder, form):
    (folder / "requirements.txt").write_text(REQUIREMENTS)

    import_files(form, "requirements.txt")

    taken = ["scipy", "requests>=2.31", "numpy==1.26.4"]  # after what the list held
    assert form.spec.pip == taken
    assert form.pip.value == taken
    report = shown(form)
    assert report["text"].startswith("Package import: 2 packages taken, 1 left out")
    assert "-e ./mylib  (requirements.txt:4)" in report["text"]
    assert "an editable install of the local folder './mylib'" in report["html"]
    assert "<code>-e ./mylib</code>" in report["html"]
    assert "requirements.txt:4" in report["html"]
    assert "qoder-env-report" in report["html"]  # the report's own rendering, styled


def test_importing_again_repeats_no_entry(folder, form):
    (folder / "requirements.txt").write_text(REQUIREMENTS)
    import_files(form, "requirements.txt")
    import_files(form, "requirements.txt")
    assert form.spec.pip == ["scipy", "requests>=2.31", "numpy==1.26.4"]


def test_several_files_fill_each_list_with_extras_groups_and_dev(folder, form):
    (folder / "requirements.txt").write_text(REQUIREMENTS)
    (folder / "package.json").write_text(json.dumps(PACKAGE_JSON))
    (folder / "apt.txt").write_text("# system packages\ncurl\ngit\n")
    (folder / "project").mkdir()
    (folder / "project" / "pyproject.toml").write_text(PYPROJECT)

    import_files(
        form,
        "requirements.txt, package.json,apt.txt , project/pyproject.toml",
        extras="excel",
        groups="test",
        dev=True,
    )

    assert form.spec.pip == [
        "scipy",
        "requests>=2.31",
        "numpy==1.26.4",
        "pandas>=2",
        "openpyxl>=3",
        "pytest>=8",
    ]
    assert form.spec.npm == ["typescript@^5.4.0", "eslint@^9.0.0"]
    assert form.spec.apt == ["curl", "git"]
    assert (form.pip.value, form.npm.value, form.apt.value) == (
        form.spec.pip,
        form.spec.npm,
        form.spec.apt,
    )
    report = shown(form)["text"]
    assert report.startswith("Package import: 9 packages taken, 1 left out")
    assert "from requirements.txt, package.json, apt.txt, project/pyproject.toml" in report


def test_an_import_updates_the_preview_and_the_body(folder, form):
    (folder / "requirements.txt").write_text(REQUIREMENTS)
    (folder / "apt.txt").write_text("curl\n")
    import_files(form, "requirements.txt, apt.txt")

    body_view, magic_view, _curl = form.preview.children
    body = json.loads(html.unescape(re.sub(r"<[^>]+>", "", body_view.value)))
    assert body["config"]["packages"] == {
        "apt": ["curl"],
        "pip": ["scipy", "requests>=2.31", "numpy==1.26.4"],
    }
    assert body == form.spec.body()
    assert "--pip scipy 'requests>=2.31' numpy==1.26.4" in html.unescape(magic_view.value)
    assert "Ready to create" in form.summary.value


def test_a_missing_file_says_so_in_red_and_changes_nothing(folder, form):
    (folder / "requirements.txt").write_text(REQUIREMENTS)

    # The first file is fine, the second missing: nothing of either is taken.
    import_files(form, "requirements.txt, reqs/requirements-dev.txt", extras="a")

    assert form.spec.pip == ["scipy"]
    assert form.pip.value == ["scipy"]
    report = shown(form)
    assert report["text"] == (
        "Nothing imported.\nreqs/requirements-dev.txt: no such file (looked in "
        f"{folder.resolve() / 'reqs'}): check the name, or give the full path."
    )
    assert "color:var(--jp-error-color1" in report["html"]
    # Every input is kept, to be fixed; the buttons work again.
    assert form.import_files.value == "requirements.txt, reqs/requirements-dev.txt"
    assert form.import_extras.value == "a"
    assert not form.import_button.disabled
    assert not form.from_kernel_button.disabled


def test_an_unparsable_file_names_its_line(folder, form):
    (folder / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = [a]\n')
    import_files(form, "pyproject.toml")
    assert form.spec.pip == ["scipy"]
    assert shown(form)["text"] == (
        "Nothing imported.\npyproject.toml:3: not valid TOML (Invalid value, column 17): correct "
        "that line and import it again."
    )


def test_a_file_of_no_known_kind_lists_the_names_understood(folder, form):
    (folder / "deps.txt").write_text("requests\n")
    import_files(form, "deps.txt")
    assert form.spec.pip == ["scipy"]
    message = shown(form)["text"]
    assert message.startswith("Nothing imported.\ndeps.txt: not a package file this can read")
    assert "pyproject.toml" in message  # the names understood


def test_import_with_no_file_named_says_what_to_name(form):
    import_files(form, " , ")
    assert shown(form)["text"].startswith("Nothing imported.\nName a package file first")
    assert form.spec.pip == ["scipy"]


def test_a_success_replaces_an_earlier_error(folder, form):
    import_files(form, "requirements.txt")
    assert "Nothing imported." in shown(form)["text"]
    (folder / "requirements.txt").write_text("requests\n")
    import_files(form, "requirements.txt")
    assert shown(form)["text"].startswith("Package import: 1 package taken")
    assert form.spec.pip == ["scipy", "requests"]


def test_the_buttons_are_disabled_while_an_import_runs(folder, form):
    (folder / "requirements.txt").write_text("requests\n")
    seen: list[tuple[str, bool]] = []
    for button in (form.import_button, form.from_kernel_button):
        button.observe(
            lambda change: seen.append((change["owner"].description, change["new"])), "disabled"
        )
    import_files(form, "requirements.txt")
    assert seen == [
        ("Import", True),
        ("From kernel", True),
        ("Import", False),
        ("From kernel", False),
    ]


def test_the_section_hides_with_the_packages_for_a_self_hosted_config(form):
    def hidden() -> bool:
        return bool(form.imports.layout.display == "none")

    assert not hidden()
    assert form.imports.selected_index is None  # closed until wanted
    form.config_type.value = "self_hosted"
    assert hidden()
    form.config_type.value = "cloud"
    assert not hidden()


def test_the_files_hint_names_the_kernels_working_directory(folder, form):
    assert html.escape(str(folder)) in form.import_files_hint.value


# --- from the kernel -----------------------------------------------------------------------------


def test_from_kernel_imported_only_pins_the_installed_versions(form):
    form.imported_only.value = True
    form.from_kernel_button.click()

    imported = form.spec.pip[1:]
    assert form.spec.pip[0] == "scipy"
    assert form.pip.value == form.spec.pip
    pinned = pins(imported)
    assert pinned, "no pin taken"
    for name, version in pinned.items():
        assert version == importlib.metadata.version(name), name
    # This test runs in pytest (imported, third-party, kept); ipywidgets runs Jupyter (left out).
    assert pinned["pytest"] == importlib.metadata.version("pytest")
    assert "ipywidgets" not in pinned
    # Only the imported: fewer than all the kernel has.
    everything = pins(sources.from_kernel().packages["pip"])
    assert set(pinned) < set(everything)
    report = shown(form)
    assert "from the kernel (imported modules only)" in report["text"]
    assert "for running Jupyter" in report["text"]
    if sys.version_info[:2] != (3, 12):
        assert "the sandbox Python 3.12" in report["text"]


def test_from_kernel_can_keep_jupyters_own_packages(form):
    form.imported_only.value = True
    form.include_jupyter.value = True
    form.from_kernel_button.click()
    pinned = pins(form.spec.pip[1:])
    assert pinned["ipywidgets"] == importlib.metadata.version("ipywidgets")
    assert "for running Jupyter" not in shown(form)["text"]

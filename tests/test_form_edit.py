"""Edit mode: the form updates a live environment on the emulator, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

import qoder_jupyter
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.forms import EnvironmentForm
from qoder_jupyter.spec import EnvironmentSpec
from tests.test_form import make_form, status, submit, text


@pytest.fixture
def live(emulator: Emulator) -> Environment:
    form = make_form(emulator, {}, spec=EnvironmentSpec(name="to-edit", description="before"))
    submit(form)
    environment: Environment = form._namespace["env"]
    return environment


def edit_form(emulator: Emulator, live: Environment, namespace: dict[str, Any]) -> EnvironmentForm:
    session = make_form(emulator, {}).session  # the same login the create used
    return EnvironmentForm(live.to_spec(), session=session, namespace=namespace, editing=live)


def test_an_unchanged_form_shows_no_changes_and_cannot_submit(emulator, live):
    form = edit_form(emulator, live, {})
    assert form.preview.get_title(0) == "Changes"
    assert "No changes" in text(form.diff_view)
    assert form.submit_button.disabled


def test_submit_updates_the_live_environment_and_the_diff_restarts(emulator, live, api):
    namespace: dict[str, Any] = {}
    form = edit_form(emulator, live, namespace)
    form.description.value = "after"
    form.pip.value = ["pandas>=2"]
    assert "after" in text(form.diff_view)
    assert not form.submit_button.disabled
    submit(form)
    stored = api.get(f"/environments/{live.id}").json()
    assert stored["description"] == "after", status(form)
    assert "pandas>=2" in str(stored), stored
    assert namespace["env"].description == "after"
    assert "No changes" in text(form.diff_view)
    assert form.submit_button.disabled


def test_an_unknown_mode_names_both():
    with pytest.raises(ValueError, match=r"mode='create'.*mode='update'"):
        qoder_jupyter.form(EnvironmentSpec(name="x"), mode="edit")


def test_update_mode_needs_a_live_environment():
    with pytest.raises(TypeError, match="Environment"):
        qoder_jupyter.form(EnvironmentSpec(name="x"), mode="update")


def test_insert_as_code_in_edit_mode_inserts_the_update_and_it_runs(emulator, live, shell):
    form = edit_form(emulator, live, {})
    form.insert_as_code()
    assert getattr(shell, "rl_next_input", None) is None  # nothing changed: nothing to insert

    form.description.value = "changed by the inserted cell"
    form.insert_as_code()
    code = shell.rl_next_input
    assert code.startswith(f"%%qoder_env update {live.id} --out env\n")
    assert shell.run_cell(code).success
    assert shell.user_ns["env"].description == "changed by the inserted cell"
    assert shell.user_ns["env"].id == live.id

"""``%qoder_env apply``, ``update`` edits and the dry runs that keep what they would send, in a real
IPython shell against the emulator over real HTTP."""

from __future__ import annotations

import json

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.errors import ValidationError
from qoder_jupyter.magics import ApplyFailed
from qoder_jupyter.plan import Applied, Plan
from qoder_jupyter.spec import EnvironmentSpec
from qoder_jupyter.update import EnvironmentUpdate

from .test_magics import Ran, assert_failed_cleanly

APPLY = '%qoder_env apply --name ds --network limited --pip "pandas>=2" numpy --meta team=data'


def run(ip: InteractiveShell, code: str) -> Ran:
    """Run a cell; ``stdout`` also holds the text of what it displayed (reports, diffs)."""
    with capture_output() as captured:
        outcome = ip.run_cell(code)
    shown = [output.data.get("text/plain", "") for output in captured.outputs]
    stdout = captured.stdout + "".join(text + "\n" for text in shown)
    return Ran(outcome.result, outcome.error_in_exec, stdout, captured.stderr)


def writes(emulator: Emulator, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests[since:] if r.method != "GET"]


def test_apply_creates_then_says_up_to_date_and_writes_nothing(shell, emulator):
    first = run(shell, APPLY)
    assert first.error is None, first
    env = shell.user_ns["env"]
    assert isinstance(env, Environment)
    assert env.name == "ds"
    assert "Created ds (env_" in first.stdout
    seen = len(emulator.requests)

    again = run(shell, APPLY)
    assert again.error is None, again
    assert writes(emulator, seen) == []
    assert "is up to date: nothing was sent." in again.stdout
    assert shell.user_ns["env"].id == env.id


def test_an_edited_line_updates_in_place_showing_the_diff(shell, emulator):
    run(shell, APPLY + " -o ds")
    created = shell.user_ns["ds"]
    edited = run(shell, APPLY.replace("numpy", "scipy") + " -o ds")
    assert edited.error is None, edited
    assert "-   numpy" in edited.stdout
    assert "+   scipy" in edited.stdout
    assert shell.user_ns["ds"].id == created.id
    assert shell.user_ns["ds"].packages == {"pip": ["pandas>=2", "scipy"]}
    assert len(emulator.environments()) == 1


def test_a_dry_run_keeps_the_plan_in_the_variable_and_writes_nothing(shell, emulator):
    ran = run(shell, APPLY + " --dry-run -o plan")
    assert ran.error is None, ran
    plan = shell.user_ns["plan"]
    assert isinstance(plan, Applied)
    assert (plan.action, plan.spec.name, plan.done) == ("create", "ds", False)
    assert writes(emulator) == []
    # The stored spec can be tweaked and applied from Python.
    plan.spec.apt = ["curl"]
    shell.run_cell("from qoder_jupyter import session")
    assert "env" not in shell.user_ns  # nothing applied, nothing stored there


def test_create_dry_run_keeps_the_spec_and_update_dry_run_keeps_the_update(shell, emulator):
    run(shell, "%qoder_env create --name kept --apt curl --dry-run -o draft")
    draft = shell.user_ns["draft"]
    assert isinstance(draft, EnvironmentSpec)
    assert draft.apt == ["curl"]
    run(shell, "%qoder_env create --name kept --apt curl -o kept")
    seen = len(emulator.requests)
    ran = run(shell, "%qoder_env update kept --add-apt git --dry-run -o change")
    assert ran.error is None, ran
    change = shell.user_ns["change"]
    assert isinstance(change, EnvironmentUpdate)
    assert change.to_body()["config"]["packages"]["apt"] == ["curl", "git"]
    assert "+   git" in ran.stdout  # the diff, before the request
    assert writes(emulator, seen) == []


def test_a_cell_list_applies_each_with_progress_and_a_rerun_writes_nothing(shell, emulator):
    cell = (
        "- name: a\n  config: {type: cloud}\n"
        "- name: b\n  config: {type: cloud, packages: {apt: [curl]}}\n"
    )
    ran = run(shell, f"%%qoder_env apply -o both\n{cell}")
    assert ran.error is None, ran
    plan = shell.user_ns["both"]
    assert isinstance(plan, Plan)
    assert [item.result for item in plan] == ["created", "created"]
    assert "[1/2] a" in ran.stdout
    assert "[2/2] b" in ran.stdout
    seen = len(emulator.requests)
    again = run(shell, f"%%qoder_env apply -o both\n{cell}")
    assert again.error is None, again
    assert writes(emulator, seen) == []


def test_a_list_from_a_file_or_a_variable(shell, emulator, tmp_path):
    path = tmp_path / "envs.json"
    path.write_text(json.dumps([{"name": "f1", "config": {"type": "cloud"}}]), "utf-8")
    assert run(shell, f"%qoder_env apply --from {path}").error is None
    assert isinstance(shell.user_ns["envs"], Plan)  # a list goes to the list variable
    shell.user_ns["wanted"] = [
        EnvironmentSpec(name="v1"),
        {"name": "v2", "config": {"type": "cloud"}},
    ]
    assert run(shell, "%qoder_env apply --from wanted -o got").error is None
    assert [item.result for item in shell.user_ns["got"]] == ["created", "created"]
    assert sorted(e["name"] for e in emulator.environments()) == ["f1", "v1", "v2"]


def test_a_list_with_a_failure_applies_the_others_then_fails_the_cell(shell, emulator):
    cell = json.dumps(
        [
            {"name": "fine", "config": {"type": "cloud"}},
            {"name": "broken", "config": {"type": "cloud", "packages": {"apt": ["Curl"]}}},
        ]
    )
    ran = run(shell, f"%%qoder_env apply -o tried\n{cell}")
    assert_failed_cleanly(ran, ApplyFailed, "1 of 2 environments could not be applied (broken)")
    assert [item.result for item in shell.user_ns["tried"]] == ["created", "failed"]
    assert "lowercase" in shell.user_ns["tried"][1].reason
    assert [e["name"] for e in emulator.environments()] == ["fine"]


def test_flags_that_describe_one_environment_are_refused_for_a_list(shell, emulator):
    ran = run(shell, '%%qoder_env apply --pip pandas\n[{"name": "a", "config": {"type": "cloud"}}]')
    assert_failed_cleanly(ran, ValidationError, "cannot say which")
    assert emulator.requests == []


def test_update_adds_and_removes_list_entries_keeping_the_rest(shell, emulator):
    run(
        shell,
        "%qoder_env create --name ed --network allowlist --allow-host pypi.org "
        '--pip "pandas>=2" numpy requests --apt curl -o ed',
    )
    ran = run(
        shell,
        '%qoder_env update ed --add-pip "pandas>=2.2" scipy --remove-pip NumPy nothing-here '
        "--add-host files.pythonhosted.org --remove-apt curl --add-apt git",
    )
    assert ran.error is None, ran
    ed = shell.user_ns["ed"]
    assert ed.packages == {"pip": ["pandas>=2.2", "requests", "scipy"], "apt": ["git"]}
    assert ed.allowed_hosts == ["pypi.org", "files.pythonhosted.org"]
    assert "--remove-pip nothing-here: not in the list" in ran.stderr


def test_pip_on_update_still_replaces_the_list_and_its_help_says_so(shell, emulator):
    run(shell, "%qoder_env create --name rep --pip pandas numpy -o rep")
    run(shell, "%qoder_env update rep --pip scipy")
    assert shell.user_ns["rep"].packages == {"pip": ["scipy"]}
    helped = run(shell, "%qoder_env update --help")
    assert "Replaces the whole list (to edit it, use --add-pip / --remove-pip)" in " ".join(
        helped.stdout.split()
    )


def test_import_options_without_an_import_say_what_they_need(shell, emulator):
    ran = run(shell, "%qoder_env apply --name x --extras dev")
    assert_failed_cleanly(ran, ValidationError, "--extras says how to import packages")
    assert emulator.requests == []


@pytest.mark.parametrize("command", ["create", "apply"])
def test_packages_from_a_requirements_file_fill_the_pip_list(shell, emulator, tmp_path, command):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# analysis\npandas>=2\nnumpy  # arrays\n-e ./local-lib\n", "utf-8")
    ran = run(
        shell,
        f"%qoder_env {command} --name imp --pip requests --packages-from {requirements} -o imp",
    )
    assert ran.error is None, ran
    assert shell.user_ns["imp"].packages == {"pip": ["requests", "pandas>=2", "numpy"]}
    assert "-e ./local-lib" in ran.stdout  # the report says what was left out


def test_packages_from_on_update_add_to_the_lists(shell, emulator, tmp_path):
    run(shell, "%qoder_env create --name up --pip pandas --apt curl -o up")
    apt = tmp_path / "apt.txt"
    apt.write_text("# system\ngit\ncurl\n", "utf-8")
    assert run(shell, f"%qoder_env update up --packages-from {apt}").error is None
    assert shell.user_ns["up"].packages == {"pip": ["pandas"], "apt": ["curl", "git"]}


def test_from_kernel_pins_what_the_kernel_has(shell, emulator):
    import importlib.metadata

    ran = run(shell, "%qoder_env apply --name k --from-kernel --dry-run -o kplan")
    assert ran.error is None, ran
    pins = shell.user_ns["kplan"].spec.pip
    assert f"httpx=={importlib.metadata.version('httpx')}" in pins
    assert not any(pin.lower().startswith(("pip==", "ipykernel==", "setuptools==")) for pin in pins)
    assert writes(emulator) == []

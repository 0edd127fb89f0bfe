"""The %qoder_env magics in a real IPython shell, against the emulator over real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from qoder_jupyter.display import RequestPreview
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import DeletedEnvironment, Environment, EnvironmentPage
from qoder_jupyter.errors import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from qoder_jupyter.spec import EnvironmentSpec


@dataclass
class Ran:
    result: Any
    error: BaseException | None
    stdout: str
    stderr: str


def run(ip: InteractiveShell, code: str) -> Ran:
    with capture_output() as captured:
        outcome = ip.run_cell(code)
    return Ran(outcome.result, outcome.error_in_exec, captured.stdout, captured.stderr)


def assert_failed_cleanly(ran: Ran, error_class: type[BaseException], *fragments: str) -> None:
    """An expected error fails the cell with a short message: no traceback."""
    assert isinstance(ran.error, error_class), ran
    assert "Traceback" not in ran.stdout + ran.stderr
    assert f"{error_class.__name__}" in ran.stdout
    for fragment in fragments:
        assert fragment in ran.stdout


# --- loading -------------------------------------------------------------------------------------


def test_load_ext_imports_only_what_a_magic_line_needs():
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'qoder_jupyter')\n"
        "assert 'qoder_env' in ip.magics_manager.magics['line']\n"
        "assert 'qoder_env' in ip.magics_manager.magics['cell']\n"
        "later = ('httpx', 'ipywidgets', 'httpcore', 'yaml', 'packaging', 'qoder_jupyter.diff',\n"
        "         'qoder_jupyter.plan', 'qoder_jupyter.sources', 'qoder_jupyter.client')\n"
        "print(sorted(m for m in later if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_help_lists_every_command_and_each_command_has_examples(shell):
    overview = run(shell, "%qoder_env --help").stdout
    for command in (
        "create",
        "apply",
        "list",
        "get",
        "manage",
        "update",
        "archive",
        "delete",
        "config",
        "login",
    ):
        assert f"  {command}" in overview
        detail = run(shell, f"%qoder_env {command} --help").stdout
        assert f"%qoder_env {command}" in detail
        assert "example" in detail
    assert run(shell, "%qoder_env help").stdout == overview


def test_the_form_opens_from_the_magic_prefilled(shell):
    from qoder_jupyter.forms import EnvironmentForm

    empty = run(shell, "%qoder_env").result
    assert isinstance(empty, EnvironmentForm)
    assert empty.spec == EnvironmentSpec()
    assert empty.variable.value == "env"
    prefilled = run(shell, '%qoder_env --form --name x --pip "pandas>=2" numpy -o mine').result
    assert prefilled.spec == EnvironmentSpec(name="x", pip=["pandas>=2", "numpy"])
    assert prefilled.pip.value == ["pandas>=2", "numpy"]
    assert prefilled.variable.value == "mine"
    run(shell, "%qoder_env create --name original --apt curl")
    clone = run(shell, "%qoder_env create --form --from env").result
    assert clone.spec == EnvironmentSpec(name="original", apt=["curl"])
    assert clone.spec is not shell.user_ns["env"]


def test_the_form_from_python_uses_the_magics_settings(shell, emulator):
    import asyncio

    import qoder_jupyter

    run(shell, "%qoder_env create --name source --pip numpy")
    form = qoder_jupyter.form(shell.user_ns["env"], variable="copy")
    form.name.value = "copy-of-source"

    async def click() -> None:
        form.submit_button.click()
        assert form.pending is not None
        await form.pending

    asyncio.run(click())
    copy = shell.user_ns["copy"]
    assert (copy.name, copy.packages) == ("copy-of-source", {"pip": ["numpy"]})
    assert len(emulator.environments()) == 2


def test_unknown_command_and_bad_flags_fail_the_cell(shell, emulator):
    assert_failed_cleanly(run(shell, "%qoder_env frobnicate"), ValidationError, "Unknown command")
    assert_failed_cleanly(
        run(shell, "%qoder_env create --name x --bogus"), ValidationError, "--bogus", "--help"
    )
    assert_failed_cleanly(run(shell, "%qoder_env create --name 'x"), ValidationError, "quote")
    assert_failed_cleanly(run(shell, "%qoder_env list --limit 0"), ValidationError, "--limit")
    assert_failed_cleanly(run(shell, "%qoder_env get"), ValidationError, "ID")
    assert emulator.requests == []


# --- create --------------------------------------------------------------------------------------


def test_create_from_flags_stores_the_environment(shell, emulator):
    ran = run(
        shell,
        '%qoder_env create --name ds --description "data science" --network allowlist '
        "--allow-host pypi.org files.pythonhosted.org --allow-package-managers "
        '--apt curl --pip "pandas>=2" numpy --npm typescript@5.0.0 '
        '--meta team=data "note=a b=c" --setup-script "echo ready"',
    )
    assert ran.error is None, ran
    env = shell.user_ns["env"]
    assert isinstance(env, Environment)
    assert ran.result is env
    assert "Stored in env." in ran.stdout
    assert [env.to_dict()] == emulator.environments()
    assert env.config == {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org", "files.pythonhosted.org"],
            "allow_package_managers": True,
        },
        "packages": {"apt": ["curl"], "pip": ["pandas>=2", "numpy"], "npm": ["typescript@5.0.0"]},
        "setup_script": "echo ready",
    }
    assert env.metadata == {"team": "data", "note": "a b=c"}
    assert env.description == "data science"


def test_create_is_the_default_command_and_out_names_the_variable(shell):
    ran = run(shell, "%qoder_env --name implicit -o mine")
    assert ran.error is None, ran
    assert shell.user_ns["mine"].name == "implicit"
    assert "env" not in shell.user_ns


def test_a_variable_that_is_not_an_environment_is_overwritten_with_a_warning(shell):
    shell.user_ns["env"] = 42
    ran = run(shell, "%qoder_env create --name warned")
    assert "env held an int" in ran.stderr
    assert isinstance(shell.user_ns["env"], Environment)
    again = run(shell, "%qoder_env create --name warned-again")
    assert again.stderr == ""  # an environment is replaced silently


def test_dry_run_shows_the_request_and_sends_nothing(shell, emulator):
    ran = run(shell, "%qoder_env create --name doc-test-env --network limited --apt curl --dry-run")
    preview = ran.result
    assert isinstance(preview, RequestPreview)
    assert preview.body == {
        "name": "doc-test-env",
        "config": {
            "type": "cloud",
            "networking": {"type": "limited"},
            "packages": {"apt": ["curl"]},
        },
    }
    assert preview.magic == "%qoder_env create --name doc-test-env --network limited --apt curl"
    bundle = preview._repr_mimebundle_()
    assert "$QODER_PAT" in bundle["text/plain"]
    assert emulator.token not in json.dumps(bundle)
    assert f'"{emulator.base_url}/environments"' in preview.curl
    assert emulator.requests == []
    assert "env" not in shell.user_ns


def test_the_sdk_fields_are_flags_and_warnings_do_not_stop_the_create(shell, emulator):
    ran = run(
        shell,
        "%qoder_env create --name sdk --scope organization --network limited "
        "--allow-mcp-servers --pip numpy --cargo ripgrep --gem rails",
    )
    assert ran.error is None, ran
    warnings = [line for line in ran.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 2  # cargo and gem: kept, not installed
    assert "cargo packages" in warnings[0]
    assert "gem packages" in warnings[1]
    (stored,) = emulator.environments()
    assert stored["scope"] == "organization"
    assert stored["config"] == {
        "type": "cloud",
        "networking": {"type": "limited", "allow_mcp_servers": True},
        "packages": {"pip": ["numpy"], "cargo": ["ripgrep"], "gem": ["rails"]},
    }
    clone = run(shell, "%qoder_env create --from env --name sdk-clone --dry-run")
    assert clone.result.body == {**stored_body(stored), "name": "sdk-clone"}
    assert "Warning: " in clone.stderr  # a dry run warns too
    assert len(emulator.environments()) == 1


def stored_body(stored: dict[str, Any]) -> dict[str, Any]:
    """The create request an environment answers (what a clone of it sends)."""
    return {key: stored[key] for key in ("name", "scope", "config") if key in stored}


def test_a_self_hosted_environment_and_the_updates_that_switch_it(shell, emulator):
    ran = run(
        shell, '%qoder_env create --name runner --config-type self_hosted --setup-script "make"'
    )
    assert ran.error is None, ran
    assert ran.stderr == ""
    runner = shell.user_ns["env"]
    assert runner.self_hosted
    assert run(shell, "%qoder_env create --name bad --config-type self_hosted --apt curl").error
    run(shell, "%qoder_env create --name sandbox --network allowlist --allow-host pypi.org -o box")
    box_id = shell.user_ns["box"].id
    # Networking and packages do not apply to a runner: switching keeps only the setup script.
    switched = run(shell, "%qoder_env update box --config-type self_hosted --setup-script x")
    assert switched.error is None, switched
    assert shell.user_ns["box"].config == {"type": "self_hosted", "setup_script": "x"}
    run(shell, f"%qoder_env update {box_id} --scope account")
    stored = {env["id"]: env for env in emulator.environments()}
    assert stored[box_id]["scope"] == "account"
    assert stored[box_id]["config"] == {"type": "self_hosted", "setup_script": "x"}
    assert stored[runner.id]["config"] == {"type": "self_hosted", "setup_script": "make"}


def test_validation_errors_fail_the_cell_and_name_every_problem(shell, emulator):
    ran = run(shell, "%qoder_env create --name '' --network allowlist --pip=-e")
    assert_failed_cleanly(ran, ValidationError, "3 problems", "name", "allowed_hosts", "pip[0]")
    assert emulator.requests == []


def test_create_from_a_variable(shell):
    shell.user_ns["base"] = EnvironmentSpec(name="from-spec", pip=["numpy"], metadata={"a": "1"})
    ran = run(shell, "%qoder_env create --from base --name copy --meta b=2")
    assert ran.error is None, ran
    env = shell.user_ns["env"]
    assert (env.name, env.packages, env.metadata) == (
        "copy",
        {"pip": ["numpy"]},
        {"a": "1", "b": "2"},
    )
    assert shell.user_ns["base"].name == "from-spec"  # the source is not changed

    run(shell, "%qoder_env create --from env --name clone-of-env -o clone")
    assert shell.user_ns["clone"].config == env.config

    shell.user_ns["body"] = {"name": "from-dict", "config": {"type": "cloud"}}
    assert run(shell, "%qoder_env create --from body").error is None
    shell.user_ns["number"] = 3
    assert_failed_cleanly(run(shell, "%qoder_env create --from number"), ValidationError, "int")
    assert_failed_cleanly(
        run(shell, "%qoder_env create --from nowhere"), ValidationError, "nowhere"
    )


def test_create_from_json_and_yaml_files(shell, tmp_path):
    (tmp_path / "env.json").write_text(
        json.dumps({"name": "json-file", "config": {"type": "cloud"}})
    )
    (tmp_path / "env.yaml").write_text(
        "name: yaml-file\nconfig:\n  type: cloud\n  packages:\n    apt: [curl]\n"
    )
    assert run(shell, f"%qoder_env create --from {tmp_path / 'env.json'} -o a").error is None
    assert run(shell, f"%qoder_env create --from {tmp_path / 'env.yaml'} -o b").error is None
    assert shell.user_ns["a"].name == "json-file"
    assert shell.user_ns["b"].packages == {"apt": ["curl"]}


def test_cell_magic_takes_the_body_as_json_or_yaml(shell):
    json_cell = (
        '%%qoder_env create -o from_json\n{"name": "cell-json", "config": {"type": "cloud"}}'
    )
    assert run(shell, json_cell).error is None
    yaml_cell = "%%qoder_env create --name overridden -o from_yaml\n"
    yaml_cell += "name: cell-yaml\nconfig:\n  type: cloud\n"
    assert run(shell, yaml_cell).error is None
    assert shell.user_ns["from_json"].name == "cell-json"
    assert shell.user_ns["from_yaml"].name == "overridden"  # flags win over the body
    broken = run(shell, '%%qoder_env create\n{"name": "x", "config": {"type": "cloud"')
    assert_failed_cleanly(broken, ValidationError, "line 1")
    both = run(shell, '%%qoder_env create --from x\n{"name": "y"}')
    assert_failed_cleanly(both, ValidationError, "not both")


# --- service errors fail the cell with the fix ---------------------------------------------------


def test_service_errors_fail_the_cell_with_a_hint(shell, emulator, monkeypatch):
    run(shell, "%qoder_env create --name taken")
    assert_failed_cleanly(
        run(shell, "%qoder_env create --name taken"), ConflictError, "409", "Hint:"
    )
    assert_failed_cleanly(run(shell, "%qoder_env get env_nope"), NotFoundError, "404")
    monkeypatch.setenv("QODER_PAT", "pt-not-valid")
    assert_failed_cleanly(run(shell, "%qoder_env list"), AuthenticationError, "401", "QODER_PAT")


def test_a_readonly_token_gets_403(shell, monkeypatch):
    with Emulator(readonly_tokens=["pt-ro"]) as readonly:
        monkeypatch.setenv("QODER_PAT", "pt-ro")
        monkeypatch.setenv("QODER_BASE_URL", readonly.base_url)
        assert run(shell, "%qoder_env list").error is None
        assert_failed_cleanly(
            run(shell, "%qoder_env create --name x"), PermissionDeniedError, "403"
        )


def test_network_errors_fail_the_cell(shell):
    shell.run_line_magic("config", "QoderEnv.base_url = 'http://127.0.0.1:9/api/v1/cloud'")
    shell.run_line_magic("config", "QoderEnv.max_retries = 0")
    assert_failed_cleanly(run(shell, "%qoder_env list"), APIConnectionError, "Hint:")


def test_a_missing_token_says_how_to_set_one(shell, monkeypatch):
    monkeypatch.delenv("QODER_PAT")
    ran = run(shell, "%qoder_env list")
    assert "QODER_PAT" in ran.stdout
    assert "%qoder_env login" in ran.stdout
    assert ran.error is not None


# --- lifecycle -----------------------------------------------------------------------------------


def test_list_get_update_archive_delete(shell, emulator):
    for name in ("one", "two", "three"):
        run(shell, f"%qoder_env create --name {name} --pip numpy --meta owner=ana -o {name}")
    env_id = shell.user_ns["two"].id

    listed = run(shell, "%qoder_env list").result
    assert isinstance(listed, EnvironmentPage)
    assert [e.name for e in shell.user_ns["envs"]] == ["three", "two", "one"]
    limited = run(shell, "%qoder_env list --limit 2 -o newest").result
    assert [e.name for e in limited] == ["three", "two"]
    assert limited.has_more

    got = run(shell, f"%qoder_env get {env_id} -o got").result
    assert got == shell.user_ns["two"]

    run(
        shell,
        f'%qoder_env update {env_id} --description "for Q3" --meta team=data --unset-meta owner',
    )
    updated = shell.user_ns["env"]
    assert (updated.description, updated.metadata) == ("for Q3", {"team": "data"})
    run(shell, f"%qoder_env update {env_id} --apt curl --network limited")
    assert shell.user_ns["env"].config == {
        "type": "cloud",
        "networking": {"type": "limited"},
        "packages": {"apt": ["curl"], "pip": ["numpy"]},  # pip kept: only apt was given
    }
    run(shell, f'%%qoder_env update {env_id}\n{{"name": "two-renamed"}}')
    assert shell.user_ns["env"].name == "two-renamed"

    archived = run(shell, f"%qoder_env archive {env_id}").result
    assert archived.archived
    assert [e.name for e in run(shell, "%qoder_env list").result] == ["three", "one"]
    assert len(run(shell, "%qoder_env list --all").result) == 3

    deleted = run(shell, f"%qoder_env delete {env_id}").result
    assert deleted == DeletedEnvironment(env_id)
    assert shell.user_ns["deleted"] == deleted
    assert env_id not in {e["id"] for e in emulator.environments()}


def test_update_dry_run_shows_the_body(shell, emulator):
    run(shell, "%qoder_env create --name before")
    env_id = shell.user_ns["env"].id
    before = len(emulator.requests)
    preview = run(shell, f"%qoder_env update {env_id} --name after --unset-meta x --dry-run").result
    assert preview.body == {"name": "after", "metadata": {"x": None}}
    assert preview.url.endswith(f"/environments/{env_id}")
    # It reads the environment, to show the diff, and writes nothing.
    assert [r.method for r in emulator.requests[before:]] == ["GET"]


def test_the_stored_environment_can_refresh_and_change_itself(shell, emulator):
    run(shell, "%qoder_env create --name live")
    env = shell.user_ns["env"]
    assert env.update(description="changed") is env
    assert env.description == "changed"
    assert env.refresh().description == "changed"
    assert env.to_spec() == EnvironmentSpec(name="live", description="changed")
    assert env.archive().archived
    assert env.delete().id == env.id
    assert emulator.environments() == []


# --- settings and login --------------------------------------------------------------------------


def test_config_shows_values_and_sources_but_never_the_token(shell, emulator):
    shell.run_line_magic("config", "QoderEnv.max_retries = 5")
    text = run(shell, "%qoder_env config").result._repr_mimebundle_()["text/plain"]
    assert "max_retries         5  (config)" in text
    assert "timeout             30.0  (default)" in text
    assert "attempt_timeout     30.0  (default)" in text
    assert "max_response_bytes  67108864  (default)" in text
    assert "workspace           None  (default)" in text
    assert f"{emulator.base_url}  ($QODER_BASE_URL)" in text
    assert "set (from $QODER_PAT)" in text
    assert emulator.token not in text
    shell.run_line_magic("config", "QoderEnv.variable = 'latest'")
    run(shell, "%qoder_env create --name configured")
    assert shell.user_ns["latest"].name == "configured"


def test_settings_reject_bad_values(shell):
    with capture_output():
        shell.run_line_magic("config", "QoderEnv.timeout = -1")
    assert shell.magics_manager.registry["QoderEnvMagics"].settings.timeout == 30.0


def test_login_keeps_the_token_in_memory_only(shell, emulator, monkeypatch):
    monkeypatch.delenv("QODER_PAT")
    monkeypatch.setattr("getpass.getpass", lambda prompt: emulator.token)
    ran = run(shell, "%qoder_env login")
    assert "in memory" in ran.stdout
    assert emulator.token not in ran.stdout + ran.stderr
    assert run(shell, "%qoder_env list").error is None
    report = run(shell, "%qoder_env config").result
    assert "from %qoder_env login" in repr(report)
    assert emulator.token not in repr(report) + repr(shell.user_ns)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "  ")
    assert_failed_cleanly(run(shell, "%qoder_env login"), ValidationError, "No token")

"""The form, driven as a user would (set values, click), against the emulator over real HTTP.

Clicks run inside a real event loop (asyncio.run), as they do in a kernel, so Submit's task runs for
real; results are read from the widgets themselves."""

from __future__ import annotations

import asyncio
import html
import json
import time
from typing import Any

import ipywidgets
import pytest

from qoder_jupyter import rules
from qoder_jupyter.credentials import Token
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.forms import EnvironmentForm
from qoder_jupyter.session import Session
from qoder_jupyter.settings import QoderEnv
from qoder_jupyter.spec import EnvironmentSpec


@pytest.fixture
def namespace() -> dict[str, Any]:
    return {}


def make_form(
    emulator: Emulator,
    namespace: dict[str, Any],
    token: str | None = None,
    spec: EnvironmentSpec | None = None,
    **settings: Any,
) -> EnvironmentForm:
    session = Session(QoderEnv(base_url=emulator.base_url, **settings))
    session.login = Token(token or emulator.token)
    return EnvironmentForm(spec, session=session, namespace=namespace)


@pytest.fixture
def form(emulator: Emulator, namespace: dict[str, Any]) -> EnvironmentForm:
    return make_form(emulator, namespace)


def fill(form: EnvironmentForm) -> None:
    form.name.value = "from-the-form"
    form.description.value = "typed in a form"
    form.networking.value = "allowlist"
    form.allowed_hosts.value = ["pypi.org", "files.pythonhosted.org"]
    form.allow_package_managers.value = True
    form.apt.value = ["curl"]
    form.pip.value = ["pandas>=2", "numpy"]
    form.npm.value = ["typescript@5.0.0"]
    form.setup_script.value = "echo ready"
    form.add_metadata.click()
    form.add_metadata.click()
    first, second = form.metadata_rows.children
    first.children[0].value, first.children[1].value = "team", "data"
    second.children[0].value, second.children[1].value = "owner", "ana"


def submit(form: EnvironmentForm, *, clicks: int = 1) -> None:
    async def scenario() -> None:
        for _ in range(clicks):
            form.submit_button.click()
        assert form.pending is not None
        await form.pending

    asyncio.run(scenario())


def text(widget: ipywidgets.HTML) -> str:
    """What an HTML widget says, as a person reads it."""
    return html.unescape(str(widget.value))


def status(form: EnvironmentForm) -> str:
    return text(form.status)


# --- fields, bound to the spec -------------------------------------------------------------------


def test_every_field_is_linked_to_the_spec(form):
    fill(form)
    assert form.spec.to_body() == {
        "name": "from-the-form",
        "description": "typed in a form",
        "config": {
            "type": "cloud",
            "networking": {
                "type": "allowlist",
                "allowed_hosts": ["pypi.org", "files.pythonhosted.org"],
                "allow_package_managers": True,
            },
            "packages": {
                "apt": ["curl"],
                "pip": ["pandas>=2", "numpy"],
                "npm": ["typescript@5.0.0"],
            },
            "setup_script": "echo ready",
        },
        "metadata": {"team": "data", "owner": "ana"},
    }


def test_the_spec_drives_the_widgets_too(form):
    form.spec.name = "set-in-python"
    form.spec.pip = ["scipy"]
    form.spec.networking = "unrestricted"
    form.spec.networking = None
    form.spec.metadata = {"a": "1"}
    assert form.name.value == "set-in-python"
    assert form.pip.value == ["scipy"]
    assert form.networking.value == ""  # "default (limited)"
    [row] = form.metadata_rows.children
    assert (row.children[0].value, row.children[1].value) == ("a", "1")


def test_a_prefilled_spec_shows_in_the_widgets(emulator, namespace):
    spec = EnvironmentSpec(
        name="pre", networking="allowed_hosts", allowed_hosts=["pypi.org"], metadata={"k": "v"}
    )
    form = make_form(emulator, namespace, spec=spec)
    assert form.spec is spec
    assert (form.name.value, form.networking.value, form.allowed_hosts.value) == (
        "pre",
        "allowed_hosts",
        ["pypi.org"],
    )
    assert len(form.metadata_rows.children) == 1


def test_metadata_rows_can_be_added_and_removed(form):
    fill(form)
    first = form.metadata_rows.children[0]
    first.children[2].click()  # remove "team"
    assert form.spec.metadata == {"owner": "ana"}
    form.add_metadata.click()
    assert form.spec.metadata == {"owner": "ana"}  # an empty row adds nothing yet


def shown(widget: ipywidgets.Widget) -> bool:
    return bool(widget.layout.display != "none")


def test_allowed_hosts_show_only_where_they_apply_and_are_kept(form):
    row = form._rows["allowed_hosts"]
    assert not shown(row)  # default networking
    form.networking.value = "allowlist"
    assert shown(row)
    form.allowed_hosts.value = ["pypi.org"]
    form.networking.value = "unrestricted"
    assert not shown(row)
    assert form.spec.allowed_hosts == []  # not sent where they do not apply...
    assert form.allowed_hosts.value == ["pypi.org"]  # ...but kept
    form.networking.value = "limited"
    assert shown(row)
    assert form.spec.allowed_hosts == ["pypi.org"]


# --- validation as you type ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trait", "value", "fragment"),
    [
        ("name", "   ", "name is empty"),
        ("name", "x" * 256, "255"),
        ("allowed_hosts", ["https://pypi.org/simple"], "bare host name 'pypi.org'"),
        ("allowed_hosts", ["pypi.org:443"], "port"),
        ("allowed_hosts", ["pypi.org", "PyPI.org"], "already listed"),
        ("pip", ["-e ."], "-"),
        ("apt", [" "], "empty apt package"),
        ("npm", ["left-pad\nrm"], "line break"),
        ("setup_script", "x" * (64 * 1024 + 1), "64"),
        ("metadata", {"k" * 65: "v"}, "64"),
        ("metadata", {"k": "v" * 513}, "512"),
        ("networking", "open", "not a networking type"),
    ],
)
def test_each_problem_shows_next_to_its_field_and_blocks_submit(form, trait, value, fragment):
    form.name.value = "ok"
    if trait == "allowed_hosts":
        form.networking.value = "allowlist"
    if trait in ("metadata", "networking"):
        setattr(form.spec, trait, value)  # set as the rows / an odd --from value would
    else:
        getattr(form, trait).value = value
    shown = text(form.problems[trait])
    assert fragment.lower() in shown.lower()
    for message in form.spec.field_problems()[trait]:  # exactly the spec's own messages
        assert message in shown
    assert form.submit_button.disabled
    assert "1 problem" in form.summary.value


def test_allowlist_without_hosts_metadata_limits_and_variable_names(form):
    form.name.value = "ok"
    form.networking.value = "allowlist"
    assert "at least one host" in text(form.problems["allowed_hosts"])
    form.networking.value = "limited"
    form.spec.metadata = {f"k{i}": "v" for i in range(17)}
    assert "16" in text(form.problems["metadata"])
    form.spec.metadata = {}
    form.variable.value = "not a name"
    assert "variable name" in text(form.problems["variable"])
    assert form.submit_button.disabled
    form.variable.value = "fine"
    assert not form.submit_button.disabled
    assert "Ready to create" in form.summary.value


def test_the_preview_is_the_specs_own_output(form, emulator):
    fill(form)
    body_view, magic_view, curl_view = form.preview.children
    assert json.dumps(form.spec.to_body(), indent=2) in text(body_view)
    assert form.spec.to_magic() in text(magic_view)
    assert form.spec.to_curl(emulator.base_url) in text(curl_view)
    assert "$QODER_PAT" in text(curl_view)
    assert form.code.value == form.spec.to_magic()
    form.name.value = ""
    assert "Fix the problems" in text(body_view)
    assert "%qoder_env create" in text(magic_view)  # the line still shows what was typed


def test_show_as_code_and_insert_as_code(form):
    form.name.value = "coded"
    form.code_button.click()
    assert form.code.layout.display is None
    assert form.code.value == "%qoder_env create --name coded"
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        form.insert_as_code()
        assert shell.rl_next_input == "%qoder_env create --name coded"
    finally:
        InteractiveShell.clear_instance()


# --- submitting ----------------------------------------------------------------------------------


def test_submit_creates_stores_and_shows_the_card(form, emulator, namespace, capsys):
    fill(form)
    submit(form)
    env = namespace["env"]
    assert isinstance(env, Environment)
    assert [env.to_dict()] == emulator.environments()
    assert env.refresh() == env  # bound to a client: the lifecycle helpers work
    assert env.to_dict()["config"] == form.spec.to_body()["config"]
    assert "Created 'from-the-form'" in status(form)
    [card] = form.result.outputs
    assert "qoder-env" in card["data"]["text/html"]
    assert not form.submit_button.disabled
    assert form.cancel_button.layout.display == "none"
    assert capsys.readouterr() == ("", "")  # nothing printed from callbacks


def test_a_double_click_creates_exactly_one(form, emulator):
    emulator.latency = 0.2
    form.name.value = "once"
    submit(form, clicks=2)
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert len(posts) == 1
    assert len(emulator.environments()) == 1


def test_the_submit_button_is_disabled_while_in_flight(form, emulator):
    emulator.latency = 0.3
    form.name.value = "busy"

    async def scenario() -> tuple[bool, str, Any]:
        form.submit_button.click()
        await asyncio.sleep(0.15)
        seen = (form.submit_button.disabled, status(form), form.cancel_button.layout.display)
        assert form.pending is not None
        await form.pending
        return seen

    disabled, progress, cancel_display = asyncio.run(scenario())
    assert disabled
    assert "Creating 'busy'…" in progress
    assert " s" in progress  # elapsed time
    assert cancel_display is None


def test_a_conflict_names_the_name_keeps_the_inputs_and_can_be_fixed(form, emulator, namespace):
    fill(form)
    submit(form)
    before = form.spec.copy()
    submit(form)
    assert "409" in status(form)
    assert "from-the-form" in status(form)
    assert form.spec == before  # every input kept
    form.name.value = "from-the-form-2"
    submit(form)
    assert namespace["env"].name == "from-the-form-2"
    assert len(emulator.environments()) == 2


def test_a_bad_token_says_how_to_set_one(emulator, namespace):
    form = make_form(emulator, namespace, token="pt-not-valid")
    form.name.value = "x"
    submit(form)
    assert "401" in status(form)
    assert "%qoder_env login" in status(form)
    assert form._key is None  # a definite refusal: the next submit is a new request
    assert "pt-not-valid" not in status(form)
    assert "env" not in namespace


def test_a_401_shows_one_hint(emulator, namespace):
    form = make_form(emulator, namespace, token="pt-not-valid")
    form.name.value = "x"
    submit(form)
    assert status(form).count("Hint:") == 1


def test_the_spec_is_checked_once_per_keystroke_and_once_per_submit(
    form, emulator, namespace, monkeypatch
):
    checks: list[str] = []
    real_problems = rules.problems

    def counted(values: Any) -> Any:
        checks.append(values["name"])
        return real_problems(values)

    monkeypatch.setattr(rules, "problems", counted)
    form.name.value = "count-me"
    assert checks == ["count-me"]  # the summary, the problems and the previews all from one
    checks.clear()
    submit(form)
    assert checks == ["count-me"]  # the client's check of the spec it was handed
    assert namespace["env"].name == "count-me"
    assert [env["name"] for env in emulator.environments()] == ["count-me"]


def test_the_created_environment_can_archive_itself(form, emulator, namespace):
    form.name.value = "lifecycle"
    submit(form)
    namespace["env"].archive()  # bound by the async client, usable from a later cell
    assert namespace["env"].archived
    (stored,) = emulator.environments()
    assert stored["archived_at"]


def test_a_missing_token_is_reported_in_the_form(emulator, namespace, monkeypatch):
    monkeypatch.delenv("QODER_PAT", raising=False)
    form = EnvironmentForm(
        session=Session(QoderEnv(base_url=emulator.base_url)), namespace=namespace
    )
    form.name.value = "x"
    submit(form)
    assert "No Qoder token" in status(form)


def test_an_unreachable_service_is_reported_and_the_key_kept_for_a_retry(emulator, namespace):
    form = make_form(emulator, namespace, max_retries=0)
    emulator.stop()
    form.name.value = "offline"
    submit(form)
    assert "Not created" in status(form)
    assert "failed" in status(form)
    assert form._key is not None  # kept: resubmitting the same request reuses it


def test_a_server_failure_keeps_the_key_so_a_resubmit_cannot_duplicate(form, emulator, namespace):
    form.name.value = "flaky"
    emulator.inject("500-after", times=4, method="POST")
    emulator.inject("500-before", times=4, method="GET")  # and the look-up fails too
    submit(form)
    assert "Not created" in status(form) or "may" in status(form)
    first_key = form._key
    assert first_key is not None
    submit(form)
    assert namespace["env"].name == "flaky"
    keys = {r.idempotency_key for r in emulator.requests if r.method == "POST"}
    assert keys == {first_key}
    assert len(emulator.environments()) == 1


def test_cancel_stops_waiting_and_a_resubmit_never_duplicates(form, emulator, namespace):
    emulator.latency = 0.6
    form.name.value = "cancelled"

    async def scenario() -> None:
        form.submit_button.click()
        await asyncio.sleep(0.1)
        form.cancel_button.click()
        assert form.pending is not None
        await form.pending

    asyncio.run(scenario())
    assert "Cancelled" in status(form)
    assert "env" not in namespace
    assert not form.submit_button.disabled
    emulator.latency = 0
    submit(form)
    assert namespace["env"].name == "cancelled"
    assert len(emulator.environments()) == 1
    # Whether the cancelled POST had left before Cancel depends on timing; if it had, it is still
    # waiting out the latency: let it finish, then it must have been a replay of the same key.
    time.sleep(0.7)
    assert len(emulator.environments()) == 1
    assert len({r.idempotency_key for r in emulator.requests if r.method == "POST"}) == 1


def _all_widgets(root: ipywidgets.Widget) -> list[ipywidgets.Widget]:
    found = [root]
    for child in getattr(root, "children", ()):
        found += _all_widgets(child)
    return found


def test_no_token_in_any_widget_state(emulator, namespace):
    canary = "pt-canary-form-state"
    with Emulator(tokens=[canary]) as private:
        form = make_form(private, namespace, token=canary)
        fill(form)
        submit(form)
        states = [w.get_state() for w in _all_widgets(form.widget)]
    assert "Created" in status(form)
    assert canary not in json.dumps(states, default=str)


# --- what the official SDK also sends (contract §7) ----------------------------------------------


def test_the_sdk_fields_are_linked_both_ways(form):
    form.name.value = "sdk"
    form.scope.value = "organization"
    form.allow_mcp_servers.value = True
    form.cargo.value = ["ripgrep"]
    assert form.spec.to_body() == {
        "name": "sdk",
        "scope": "organization",
        "config": {
            "type": "cloud",
            "networking": {"allow_mcp_servers": True},
            "packages": {"cargo": ["ripgrep"]},
        },
    }
    form.spec.scope = None
    form.spec.go = ["example.com/tool"]
    assert (form.scope.value, form.go.value) == ("", ["example.com/tool"])
    form.spec.scope = "team"  # from a file, say: offered as written, and reported
    assert form.scope.value == "team"
    assert "not a scope" in text(form.problems["scope"])
    assert form.submit_button.disabled


def test_more_package_managers_stay_closed_until_used(emulator, namespace):
    def is_open(form: EnvironmentForm) -> bool:
        return bool(form.more_packages.selected_index == 0)

    closed = make_form(emulator, namespace)
    assert not is_open(closed)
    assert [closed.cargo, closed.gem, closed.go] == [
        row.children[1].children[0] for row in closed.more_packages.children[0].children
    ]
    closed.spec.gem = ["rails"]  # set from Python: shown, never hidden
    assert is_open(closed)
    prefilled = make_form(emulator, namespace, spec=EnvironmentSpec(name="x", go=["example.com/y"]))
    assert is_open(prefilled)


def test_warnings_show_but_do_not_block_submit(form, emulator, namespace):
    form.name.value = "warned"
    form.cargo.value = ["ripgrep"]
    assert "cargo packages are accepted and kept" in text(form.warnings)
    assert "problem" not in form.summary.value
    assert not form.submit_button.disabled
    submit(form)
    assert namespace["env"].packages == {"cargo": ["ripgrep"]}
    form.cargo.value = []
    assert text(form.warnings) == ""


SANDBOX_ROWS = ("networking", "allow_package_managers", "allow_mcp_servers", "apt", "pip", "npm")


def test_self_hosted_hides_the_sandbox_fields_sends_none_and_keeps_them(form, emulator, namespace):
    fill(form)
    cloud = form.spec.copy()
    form.config_type.value = "self_hosted"
    assert not any(shown(form._rows[trait]) for trait in (*SANDBOX_ROWS, "allowed_hosts"))
    assert not shown(form.more_packages)
    assert shown(form.config_note)
    assert form.spec.body() == {
        "name": "from-the-form",
        "description": "typed in a form",
        "config": {"type": "self_hosted", "setup_script": "echo ready"},
        "metadata": {"team": "data", "owner": "ana"},
    }
    assert not form.submit_button.disabled
    form.config_type.value = "cloud"  # back: every value as it was
    assert form.spec == cloud
    assert all(shown(form._rows[trait]) for trait in (*SANDBOX_ROWS, "allowed_hosts"))
    assert not shown(form.config_note)
    form.config_type.value = "self_hosted"
    submit(form)
    (stored,) = emulator.environments()
    assert stored["config"] == {"type": "self_hosted", "setup_script": "echo ready"}


def test_a_self_hosted_spec_with_sandbox_values_shows_them_to_be_fixed(emulator, namespace):
    spec = EnvironmentSpec(name="runner", config_type="self_hosted", apt=["curl"])
    form = make_form(emulator, namespace, spec=spec)
    assert form.config_type.value == "self_hosted"
    assert shown(form._rows["apt"])
    assert not shown(form._rows["pip"])
    assert "do not apply to a self-hosted environment" in text(form.problems["apt"])
    assert form.submit_button.disabled
    form.apt.value = []
    assert not shown(form._rows["apt"])
    assert not form.submit_button.disabled

"""Workspaces (contract §7): the ``qoder-workspace-id`` header, from a client argument, a
``QoderEnv`` setting, or per call; the environments a call returns remember their workspace. The
emulator keeps environments per workspace, so what a test sees there proves what was sent."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets import TraitError

from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import NotFoundError, ValidationError
from qoder_jupyter.session import Session
from qoder_jupyter.settings import QoderEnv


def _names(client: Client, **call: str) -> list[str]:
    return sorted(env.name for env in client.environments.list_all(**call))


def test_a_client_workspace_goes_with_every_call(emulator):
    with (
        Client(base_url=emulator.base_url, token=emulator.token, workspace="ws_team") as team,
        Client(base_url=emulator.base_url, token=emulator.token) as default,
    ):
        env = team.environments.create(name="shared-name")
        default.environments.create(name="shared-name")  # another workspace: no conflict
        assert _names(team) == ["shared-name"]
        assert team.environments.retrieve(env.id).id == env.id
        with pytest.raises(NotFoundError):
            default.environments.retrieve(env.id)
        team.environments.update(env.id, description="moved on")
        assert team.environments.archive(env.id).archived_at is not None
        team.environments.delete(env.id)
    sent = {r.workspace for r in emulator.requests}
    assert sent == {"ws_team", None}


def test_a_call_can_name_its_own_workspace_and_its_environments_remember_it(emulator):
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        env = client.environments.create(name="elsewhere", workspace="ws_other")
        assert env.workspace == "ws_other"
        assert pickle.loads(pickle.dumps(env)).workspace == "ws_other"  # noqa: S301 - our own
        assert _names(client) == []
        assert _names(client, workspace="ws_other") == ["elsewhere"]
        env.update(description="through the environment")  # in ws_other, not the default
        assert env.refresh().description == "through the environment"
        assert env.archive().archived_at is not None
    lifecycle = [r for r in emulator.requests if env.id in r.path]
    assert {r.workspace for r in lifecycle} == {"ws_other"}


def test_the_async_client_and_its_environments_use_the_workspace_too(emulator):
    async def scenario() -> str:
        async with AsyncClient(
            base_url=emulator.base_url, token=emulator.token, workspace="ws_async"
        ) as client:
            await client.environments.create(name="async-ws")
            other = await client.environments.create(name="async-other", workspace="ws_b")
            assert [e.name async for e in client.environments.list_all()] == ["async-ws"]
            other.archive()  # synchronous helper, in ws_b
            return other.id

    other_id = asyncio.run(scenario())
    archive = [r for r in emulator.requests if r.path.endswith(f"{other_id}/archive")]
    assert [r.workspace for r in archive] == ["ws_b"]


@pytest.mark.parametrize("bad", ["", "ws team", "ws\nX-Injected: 1", "wś", "ws\x00"])
def test_a_workspace_no_header_can_carry_is_refused_before_sending(emulator, bad):
    with pytest.raises(ValidationError, match="workspace"):
        Client(base_url=emulator.base_url, token=emulator.token, workspace=bad)
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        before = len(emulator.requests)
        with pytest.raises(ValidationError, match="workspace"):
            client.environments.list(workspace=bad)
        assert len(emulator.requests) == before


def test_the_setting_reaches_the_session_client(emulator, monkeypatch):
    monkeypatch.setenv("QODER_PAT", emulator.token)
    monkeypatch.setenv("QODER_BASE_URL", emulator.base_url)
    settings = QoderEnv()
    session = Session(settings)
    session.environments().create(name="default-ws")
    settings.workspace = "ws_configured"
    session.environments().create(name="configured-ws")  # a new client, for the new setting
    session.close()
    sent = [r.workspace for r in emulator.requests if r.method == "POST"]
    assert sent == [None, "ws_configured"]
    with pytest.raises(TraitError, match="holds a space"):
        settings.workspace = "two words"


def test_workspaces_are_kept_apart_by_the_emulator(emulator: Emulator) -> None:
    with Client(base_url=emulator.base_url, token=emulator.token, workspace="ws_1") as one:
        one.environments.create(name="only-in-1")
    with Client(base_url=emulator.base_url, token=emulator.token, workspace="ws_2") as two:
        assert list(two.environments.list_all()) == []


def test_every_magic_takes_a_workspace_for_that_call(emulator, monkeypatch):
    monkeypatch.setenv("QODER_PAT", emulator.token)
    monkeypatch.setenv("QODER_BASE_URL", emulator.base_url)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "qoder_jupyter")
    try:
        for line in (
            "create --name in-ws --workspace ws_magic -o made",
            "list --workspace ws_magic -o found",
            "list -o default_found",
            "get {made.id} --workspace ws_magic -o got",
            # A variable goes where its environment came from, without --workspace.
            "update made --description changed",
            "archive made",
            "delete made",
        ):
            made = shell.user_ns.get("made")
            outcome = shell.run_cell(f"%qoder_env {line.format(made=made)}")
            assert outcome.error_in_exec is None, (line, outcome.error_in_exec)
        assert [env.name for env in shell.user_ns["found"]] == ["in-ws"]
        assert list(shell.user_ns["default_found"]) == []
        assert shell.user_ns["made"].workspace == "ws_magic"
    finally:
        shell.run_line_magic("unload_ext", "qoder_jupyter")
        InteractiveShell.clear_instance()
    spaces = [r.workspace for r in emulator.requests]
    assert spaces.count(None) == 1  # the one list without --workspace
    assert set(spaces) == {None, "ws_magic"}


def test_the_card_says_which_workspace_an_environment_came_from(emulator):
    from qoder_jupyter.display import environment_bundle

    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        elsewhere = client.environments.create(name="shown", workspace="ws_card")
        here = client.environments.create(name="default")
    bundle = environment_bundle(elsewhere)
    assert "workspace:  ws_card" in bundle["text/plain"]
    assert "<code>ws_card</code>" in bundle["text/html"]
    assert "| Workspace | `ws_card` |" in bundle["text/markdown"]
    assert "workspace" not in environment_bundle(here)["text/plain"]

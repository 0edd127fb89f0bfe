"""EnvironmentUpdate: the one list of update fields, its checked body, and every caller using it."""

from __future__ import annotations

import asyncio
import json

import pytest

from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import ValidationError
from qoder_jupyter.spec import EnvironmentSpec
from qoder_jupyter.update import UPDATE_FIELDS, EnvironmentUpdate


def test_the_fields_are_those_of_the_contract_and_new_ones_come_last() -> None:
    # Positional calls written before scope existed keep their meaning.
    assert UPDATE_FIELDS == ("name", "description", "config", "metadata", "scope")
    assert EnvironmentUpdate("n", "d", None, {"k": "v"}).metadata == {"k": "v"}


def test_only_what_is_given_is_sent() -> None:
    assert EnvironmentUpdate(description="").to_body() == {"description": ""}
    body = EnvironmentUpdate(name="n", metadata={"keep": "v", "drop": None}).to_body()
    assert body == {"name": "n", "metadata": {"keep": "v", "drop": None}}


def test_a_config_is_sent_whole_from_a_spec_or_a_config_object() -> None:
    spec = EnvironmentSpec(name="ignored", networking="allowlist", allowed_hosts=["pypi.org"])
    from_spec = EnvironmentUpdate(config=spec).to_body()
    assert from_spec == {
        "config": {
            "type": "cloud",
            "networking": {"type": "allowlist", "allowed_hosts": ["pypi.org"]},
        }
    }
    config = {"type": "cloud", "packages": {"pip": ["numpy"]}, "setup_script": "echo"}
    assert EnvironmentUpdate(config=config).to_body() == {"config": config}


def test_the_sdk_fields_are_sent_scope_at_the_top_and_the_rest_in_the_config() -> None:
    body = EnvironmentUpdate(
        scope="account",
        config=EnvironmentSpec(allow_mcp_servers=True, cargo=["ripgrep"], scope="ignored"),
    ).to_body()
    assert json.dumps(body) == json.dumps(
        {
            "scope": "account",
            "config": {
                "type": "cloud",
                "networking": {"allow_mcp_servers": True},
                "packages": {"cargo": ["ripgrep"]},
            },
        }
    )
    runner = {"type": "self_hosted", "setup_script": "make"}
    assert EnvironmentUpdate(config=runner).to_body() == {"config": runner}
    assert EnvironmentUpdate.from_body({"scope": "organization"}).scope == "organization"
    with pytest.raises(ValidationError) as caught:
        EnvironmentUpdate(scope=1).to_body()  # type: ignore[arg-type]
    assert [p.field for p in caught.value.problems] == ["scope"]
    with pytest.raises(ValidationError) as caught:
        EnvironmentUpdate(scope="team").to_body()
    assert [p.field for p in caught.value.problems] == ["scope"]


def test_an_update_warns_of_what_its_config_sends() -> None:
    assert EnvironmentUpdate(name="n").warnings() == []
    assert EnvironmentUpdate(config={"type": "cloud", "packages": {"go": ["x"]}}).warnings()
    assert EnvironmentUpdate(config={"type": "cloud", "packages": "x"}).warnings() == []


def test_only_the_parts_sent_are_checked() -> None:
    # No name is sent, so the empty default name of a spec is no problem here.
    assert EnvironmentUpdate(config={"type": "cloud"}).to_body() == {"config": {"type": "cloud"}}
    with pytest.raises(ValidationError) as caught:
        EnvironmentUpdate(
            name=" ",
            config={"type": "cloud", "networking": {"type": "allowlist"}},
            metadata={"k" * 65: "v", "gone": None},
        ).to_body()
    fields = [problem.field for problem in caught.value.problems]
    assert fields == ["name", "config.networking.allowed_hosts", f"metadata[{'k' * 65!r}]"]
    with pytest.raises(ValidationError) as caught:
        EnvironmentUpdate(description="file-\udcff").to_body()  # as read with surrogateescape
    assert [problem.field for problem in caught.value.problems] == ["description"]


def test_wrong_types_and_nothing_to_update_are_problems_not_crashes() -> None:
    with pytest.raises(ValidationError, match="Nothing to update"):
        EnvironmentUpdate().to_body()
    with pytest.raises(ValidationError) as caught:
        EnvironmentUpdate(name=5, metadata=["a"]).to_body()  # type: ignore[arg-type]
    assert [p.field for p in caught.value.problems] == ["name", "metadata"]
    with pytest.raises(ValidationError, match="Expected an object"):
        EnvironmentUpdate(config={"type": "cloud", "networking": "open"}).to_body()


def test_from_a_body_names_unknown_fields() -> None:
    assert EnvironmentUpdate.from_body({"name": "x"}) == EnvironmentUpdate(name="x")
    with pytest.raises(ValidationError) as caught:
        EnvironmentUpdate.from_body({"name": "x", "status": "ready", "id": "env_1"})
    assert [p.field for p in caught.value.problems] == ["id", "status"]
    assert "an update takes name, description, config, metadata, scope" in str(caught.value)


def test_both_clients_and_an_environment_take_an_update_or_its_fields(emulator: Emulator) -> None:
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        env = client.environments.create(name="to-change")
        client.environments.update(env.id, EnvironmentUpdate(description="by value"))
        env.update(metadata={"by": "keywords"})
        assert env.refresh().description == "by value"
        assert env.metadata == {"by": "keywords"}
        with pytest.raises(TypeError, match="not both"):
            client.environments.update(env.id, EnvironmentUpdate(name="a"), name="b")
        with pytest.raises(TypeError):
            client.environments.update(env.id, colour="blue")

    async def from_async() -> None:
        async with AsyncClient(base_url=emulator.base_url, token=emulator.token) as client:
            updated = await client.environments.update(env.id, EnvironmentUpdate(name="renamed"))
            assert updated.name == "renamed"
            updated.update(description="from a later cell")  # bound, synchronously

    asyncio.run(from_async())
    (stored,) = emulator.environments()
    assert (stored["name"], stored["description"]) == ("renamed", "from a later cell")


def test_the_sdk_fields_reach_the_service_and_come_back(emulator: Emulator) -> None:
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        env = client.environments.create(name="sdk", networking="limited")
        env.update(scope="organization", config=EnvironmentSpec(allow_mcp_servers=True, gem=["x"]))
        assert (env.scope, env.allow_mcp_servers, env.packages) == (
            "organization",
            True,
            {"gem": ["x"]},
        )
        env.update(config={"type": "self_hosted", "setup_script": "make"})
        assert env.self_hosted
    (stored,) = emulator.environments()
    assert stored["scope"] == "organization"
    assert stored["config"] == {"type": "self_hosted", "setup_script": "make"}

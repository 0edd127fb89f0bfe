"""Client and AsyncClient against the emulator over real HTTP: every endpoint, every error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsecureTransportError,
    MissingTokenError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from qoder_jupyter.spec import EnvironmentSpec

SEED_SPEC = EnvironmentSpec(name="doc-test-env", networking="limited", apt=["curl"])


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    with Client(base_url=emulator.base_url, token=emulator.token, backoff=0.01) as client:
        yield client


def test_create_sends_the_seed_body_and_reads_the_seed_response(client, emulator):
    env = client.environments.create(SEED_SPEC)
    assert env.id.startswith("env_")
    assert (env.name, env.status, env.description) == ("doc-test-env", "ready", "")
    assert env.config == {
        "type": "cloud",
        "networking": {"type": "limited"},
        "packages": {"apt": ["curl"]},
    }
    assert env.networking == "limited"
    assert env.packages == {"apt": ["curl"]}
    assert env.created_at is not None
    assert env.created_at.tzinfo is not None
    assert emulator.environments() == [env.to_dict()]


def test_create_from_keywords_and_from_a_body(client):
    by_keywords = client.environments.create(
        name="kw", networking="unrestricted", pip=["pandas>=2"]
    )
    assert by_keywords.config["packages"] == {"pip": ["pandas>=2"]}
    body = {"name": "from-body", "config": {"type": "cloud"}, "metadata": {"team": "data"}}
    assert client.environments.create(body).metadata == {"team": "data"}


def test_an_invalid_spec_is_refused_before_anything_is_sent(client, emulator):
    with pytest.raises(ValidationError) as caught:
        client.environments.create(name=" ", networking="allowlist", pip=["-e ."])
    fields = {problem.field for problem in caught.value.problems}
    assert {"name", "config.networking.allowed_hosts", "config.packages.pip[0]"} <= fields
    assert emulator.requests == []


def test_retrieve_update_archive_delete(client, emulator):
    env = client.environments.create(name="life", metadata={"a": "1", "b": "2"})
    assert client.environments.retrieve(env.id) == env

    updated = client.environments.update(
        env.id, name="life-2", description="renamed", metadata={"a": None, "c": "3"}
    )
    assert (updated.name, updated.description) == ("life-2", "renamed")
    assert updated.metadata == {"b": "2", "c": "3"}
    assert updated.config == env.config  # omitted fields stay

    new_config = EnvironmentSpec(name="ignored", networking="allowlist", allowed_hosts=["pypi.org"])
    replaced = client.environments.update(env.id, config=new_config)
    assert replaced.config == {
        "type": "cloud",
        "networking": {"type": "allowlist", "allowed_hosts": ["pypi.org"]},
    }
    assert replaced.name == "life-2"

    archived = client.environments.archive(env.id)
    assert archived.archived
    assert archived.status == "archived"
    assert archived.archived_at is not None
    assert client.environments.archive(env.id).archived_at == archived.archived_at  # idempotent

    deleted = client.environments.delete(env.id)
    assert deleted.id == env.id
    assert emulator.environments() == []
    with pytest.raises(NotFoundError) as caught:
        client.environments.retrieve(env.id)
    assert caught.value.status_code == 404
    assert caught.value.error_type == "not_found_error"


def test_update_checks_only_what_it_changes(client):
    env = client.environments.create(name="upd")
    with pytest.raises(ValidationError, match="Nothing to update"):
        client.environments.update(env.id)
    with pytest.raises(ValidationError) as caught:
        client.environments.update(env.id, name="", metadata={"k" * 65: "v"})
    assert {p.field.split(".")[0].split("[")[0] for p in caught.value.problems} == {
        "name",
        "metadata",
    }
    with pytest.raises(ValidationError):
        client.environments.update(
            env.id, config={"type": "cloud", "networking": {"type": "allowlist"}}
        )


def test_list_pages_and_list_all(client):
    created = [client.environments.create(name=f"env-{i:02d}") for i in range(25)]
    first = client.environments.list(limit=10)
    assert [e.id for e in first] == [e.id for e in reversed(created)][:10]
    assert first.has_more
    everything = list(client.environments.list_all(limit=10))
    assert [e.id for e in everything] == [e.id for e in reversed(created)]


def test_list_filters_archived_and_validates_its_query(client):
    kept = client.environments.create(name="kept")
    gone = client.environments.create(name="gone")
    client.environments.archive(gone.id)
    assert [e.id for e in client.environments.list()] == [kept.id]
    assert {e.id for e in client.environments.list(include_archived=True)} == {kept.id, gone.id}
    with pytest.raises(ValidationError, match="limit must be 1 to 100"):
        client.environments.list(limit=101)
    with pytest.raises(ValidationError, match="at most one of"):
        client.environments.list(after_id=kept.id, page="x")


def test_list_created_at_filters(client):
    env = client.environments.create(name="dated")
    assert env.created_at is not None
    assert [e.id for e in client.environments.list(created_after=env.created_at)] == [env.id]
    assert list(client.environments.list(created_before="2000-01-01T00:00:00Z")) == []
    with pytest.raises(BadRequestError) as caught:
        client.environments.list(created_after="yesterday")
    assert caught.value.param


def test_duplicate_name_is_a_conflict_and_is_not_retried(client, emulator):
    client.environments.create(name="twice")
    before = len(emulator.requests)
    with pytest.raises(ConflictError) as caught:
        client.environments.create(name="twice")
    assert caught.value.status_code == 409
    assert "already" in caught.value.message
    assert len(emulator.requests) == before + 1


def test_a_server_side_rule_comes_back_as_a_bad_request(client):
    env = client.environments.create(name="meta", metadata={f"k{i}": "v" for i in range(16)})
    with pytest.raises(BadRequestError) as caught:  # 17 keys once merged: only the server knows
        client.environments.update(env.id, metadata={"one-more": "v"})
    assert caught.value.error_type == "invalid_request_error"
    assert caught.value.request_id


def test_wrong_token_and_readonly_token(emulator):
    stranger = Client(base_url=emulator.base_url, token="pt-not-a-real-token")
    with stranger, pytest.raises(AuthenticationError) as caught:
        stranger.environments.list()
    assert "QODER_PAT" in str(caught.value)
    with (
        Emulator(readonly_tokens=["pt-readonly-1"]) as readonly_emulator,
        Client(base_url=readonly_emulator.base_url, token="pt-readonly-1") as client,
    ):
        assert list(client.environments.list()) == []
        with pytest.raises(PermissionDeniedError):
            client.environments.create(name="nope")
        assert len(readonly_emulator.requests) == 2  # 403 is not retried


def test_configuration_errors_come_before_any_request(monkeypatch):
    with pytest.raises(MissingTokenError):
        Client(base_url="http://127.0.0.1:9/api/v1/cloud")
    with pytest.raises(InsecureTransportError):
        Client(base_url="http://qoder.example/api/v1/cloud", token="pt-x")
    monkeypatch.setenv("QODER_PAT", "pt-from-env")
    monkeypatch.setenv("QODER_BASE_URL", "http://127.0.0.1:9/api/v1/cloud")
    client = Client()
    assert client.base_url == "http://127.0.0.1:9/api/v1/cloud"
    assert "pt-from-env" not in repr(client)
    client.close()


def test_environment_ids_are_quoted_into_the_path(client, emulator):
    with pytest.raises(NotFoundError):
        client.environments.retrieve("env_%zz+é")
    assert emulator.requests[-1].path.endswith("/environments/env_%25zz%2B%C3%A9")


@pytest.mark.parametrize(
    ("env_id", "says"),
    [
        ("", "id is required"),
        (".", "is not an environment id"),
        ("..", "is not an environment id"),
        ("../environments?x=1", "single path segment"),
        ("env_1/archive", "single path segment"),
        ("env_1#x", "single path segment"),
        ("env_1 ", "write 'env_1'"),
        ("env\n1", "control character"),
        ("env_\udcff", "not valid Unicode"),
    ],
)
@pytest.mark.parametrize("operation", ["retrieve", "archive", "delete", "update"])
def test_an_id_that_could_address_something_else_is_refused_before_sending(
    client, emulator, env_id, says, operation
):
    before = len(emulator.requests)
    call = getattr(client.environments, operation)
    with pytest.raises(ValidationError, match=says) as caught:
        call(env_id, name="x") if operation == "update" else call(env_id)
    assert caught.value.problems[0].field == "id"
    assert len(emulator.requests) == before  # nothing reached the server


def test_async_client_does_everything_the_sync_one_does(emulator):
    async def scenario() -> list[Environment]:
        async with AsyncClient(base_url=emulator.base_url, token=emulator.token) as client:
            created = await asyncio.gather(
                *(client.environments.create(name=f"async-{i}") for i in range(12))
            )
            env = created[0]
            assert await client.environments.retrieve(env.id) == env
            updated = await client.environments.update(env.id, description="d")
            assert updated.description == "d"
            assert (await client.environments.archive(env.id)).archived
            assert (await client.environments.delete(env.id)).id == env.id
            page = await client.environments.list(limit=5)
            assert len(page) == 5
            return [e async for e in client.environments.list_all(limit=5)]

    listed = asyncio.run(scenario())
    assert len(listed) == 11
    assert {e.name for e in listed} == {f"async-{i}" for i in range(1, 12)}  # async-0 deleted

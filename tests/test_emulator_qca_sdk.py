"""The official SDK (qca-sdk) against the emulator: proof that the emulator is faithful to a client
we did not write. Every call goes over real HTTP to the emulator on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import qca
from qca.managed.types.cloud_config_params import CloudConfigParams

from qoder_jupyter.emulator import Emulator

from .test_emulator_helpers import loopback_client

CONFIG: CloudConfigParams = {
    "type": "cloud",
    "networking": {
        "type": "limited",
        "allowed_hosts": ["pypi.org", "*.pythonhosted.org"],
        "allow_package_managers": True,
    },
    "packages": {"apt": ["curl"], "pip": ["pandas>=2"]},
    "setup_script": "echo ready",
}


def managed(emulator: Emulator, token: str) -> qca.Managed:
    """The SDK's client for the emulator. No retries: each call must succeed or fail at once."""
    return qca.Managed(
        access_token=token,
        base_url=emulator.base_url,
        max_retries=0,
        http_client=loopback_client(),  # shares one TLS context: no CA bundle load per client
    )


@pytest.fixture
def sdk(emulator: Emulator) -> Iterator[qca.Managed]:
    with managed(emulator, emulator.token) as client:
        yield client


def test_create_parses_into_the_sdks_model(sdk: qca.Managed) -> None:
    env = sdk.environments.create(
        name="sdk-env", description="made by qca", config=CONFIG, metadata={"team": "data"}
    )

    assert env.id is not None
    assert env.id.startswith("env_")
    assert (env.type, env.name, env.description) == ("environment", "sdk-env", "made by qca")
    assert env.config is not None
    assert env.config.type == "cloud"
    assert env.config.networking is not None
    assert env.config.networking.type == "limited"
    assert env.config.networking.allowed_hosts == ["pypi.org", "*.pythonhosted.org"]
    assert env.config.networking.allow_package_managers is True
    assert env.config.packages is not None
    assert env.config.packages.pip == ["pandas>=2"]
    assert env.config.setup_script == "echo ready"
    assert env.metadata == {"team": "data"}
    assert env.archived_at is None
    assert env.created_at == env.updated_at
    assert env._request_id is not None  # read from our x-request-id header


def test_retrieve_update_archive_delete(sdk: qca.Managed, emulator: Emulator) -> None:
    created = sdk.environments.create(
        name="lifecycle", config={"type": "cloud"}, metadata={"a": "1"}
    )
    assert created.id is not None

    retrieved = sdk.environments.retrieve(created.id)
    updated = sdk.environments.update(
        created.id, name="renamed", metadata={"a": None, "b": "2"}, config=CONFIG
    )
    archived = sdk.environments.archive(created.id)
    archived_again = sdk.environments.archive(created.id)
    deleted = sdk.environments.delete(created.id)

    assert retrieved.model_dump() == created.model_dump()
    assert (updated.name, updated.metadata) == ("renamed", {"b": "2"})
    assert updated.config is not None
    assert updated.config.packages is not None
    assert updated.config.packages.apt == ["curl"]
    assert archived.archived_at is not None
    assert archived_again.archived_at == archived.archived_at
    assert (deleted.id, deleted.type) == (created.id, "environment_deleted")
    assert emulator.environments() == []


def test_list_auto_paginates_over_several_pages(sdk: qca.Managed, emulator: Emulator) -> None:
    made = [sdk.environments.create(name=f"env-{i}", config={"type": "cloud"}).id for i in range(7)]

    first_page = sdk.environments.list(limit=3)
    everything = [env.id for env in first_page]
    pages = list(sdk.environments.list(limit=3).iter_pages())

    assert everything == made[::-1]
    assert [len(page.data) for page in pages] == [3, 3, 1]
    assert first_page.has_more is True
    assert pages[-1].next_page is None
    assert [record.query.startswith("limit=3") for record in emulator.requests[-3:]] == [True] * 3


def test_list_filters(sdk: qca.Managed) -> None:
    kept = sdk.environments.create(name="kept", config={"type": "cloud"})
    gone = sdk.environments.create(name="gone", config={"type": "cloud"})
    assert gone.id is not None
    sdk.environments.archive(gone.id)
    now = datetime.now(timezone.utc)

    live = [env.id for env in sdk.environments.list()]
    every = [env.id for env in sdk.environments.list(include_archived=True)]
    recent = [env.id for env in sdk.environments.list(created_at_gte=now - timedelta(hours=1))]
    future = [env.id for env in sdk.environments.list(created_at_gte=now + timedelta(hours=1))]

    assert live == [kept.id]
    assert every == [gone.id, kept.id]
    assert recent == [kept.id]
    assert future == []


def test_errors_map_to_the_sdks_exceptions(sdk: qca.Managed, emulator: Emulator) -> None:
    sdk.environments.create(name="taken", config={"type": "cloud"})

    with pytest.raises(qca.ConflictError) as conflict:
        sdk.environments.create(name="taken", config={"type": "cloud"})
    with pytest.raises(qca.NotFoundError):
        sdk.environments.retrieve("env_" + "0" * 32)
    unknown_mode: Any = {"type": "cloud", "networking": {"type": "open"}}
    with pytest.raises(qca.BadRequestError) as bad:
        sdk.environments.create(name="x", config=unknown_mode)
    with (
        managed(emulator, "pt-wrong") as stranger,
        pytest.raises(qca.AuthenticationError),
    ):
        stranger.environments.list()

    assert conflict.value.type == "conflict_error"
    assert conflict.value.request_id == emulator.requests[-4].request_id
    assert bad.value.type == "invalid_request_error"

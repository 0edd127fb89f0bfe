"""The tolerant reader over real HTTP: the client against each documented service version's
response shapes (the emulator's dialects), with identical results."""

from __future__ import annotations

import httpx
import pytest

from qoder_jupyter.client import Client
from qoder_jupyter.emulator import DIALECTS, Emulator
from qoder_jupyter.spec import EnvironmentSpec

SPEC = EnvironmentSpec(
    name="shapes",
    description="every shape",
    networking="allowlist",
    allowed_hosts=["pypi.org"],
    pip=["numpy"],
    metadata={"team": "data"},
)


def _summary(client: Client) -> dict[str, object]:
    env = client.environments.create(SPEC)
    archived = client.environments.archive(env.id)
    return {
        "name": env.name,
        "description": env.description,
        "status": env.status,
        "archived": env.archived,
        "networking": env.networking,
        "allowed_hosts": env.allowed_hosts,
        "allow_package_managers": env.allow_package_managers,
        "packages": env.packages,
        "metadata": env.metadata,
        "has_created_at": env.created_at is not None,
        "archived_status": archived.status,
        "archived_flag": archived.archived,
        "has_archived_at": archived.archived_at is not None,
        "listed": [e.id for e in client.environments.list_all(include_archived=True)] == [env.id],
        "deleted": client.environments.delete(env.id).id == env.id,
    }


def test_every_dialect_reads_the_same():
    summaries = {}
    for dialect in DIALECTS:
        with (
            Emulator(dialect=dialect) as emulator,
            Client(base_url=emulator.base_url, token=emulator.token) as client,
        ):
            summaries[dialect] = _summary(client)
            assert emulator.environments() == []
    assert summaries["seed"] == summaries["newest"] == summaries["legacy"]
    assert summaries["seed"]["packages"] == {"pip": ["numpy"]}
    assert summaries["seed"]["status"] == "ready"
    assert summaries["seed"]["archived_status"] == "archived"


@pytest.mark.parametrize(
    ("dialect", "create_status", "delete_status"),
    [("seed", 201, 200), ("newest", 201, 200), ("legacy", 200, 204)],
)
def test_the_dialects_really_differ_on_the_wire(dialect, create_status, delete_status):
    with Emulator(dialect=dialect) as emulator:
        headers = {"Authorization": f"Bearer {emulator.token}"}
        with httpx.Client(base_url=emulator.base_url, headers=headers) as http:
            created = http.post("/environments", json=SPEC.to_body())
            deleted = http.delete(f"/environments/{created.json()['id']}")
    assert (created.status_code, deleted.status_code) == (create_status, delete_status)
    body = created.json()
    assert ("status" in body) is (dialect != "newest")
    assert ("archived" in body) is (dialect == "legacy")
    filled = body["config"]["networking"].get("allow_mcp_servers")
    assert (filled is False) is (dialect == "newest")
    if dialect == "legacy":
        assert deleted.content == b""
    else:
        assert deleted.json() == {"id": body["id"], "type": "environment_deleted"}


def test_an_ambiguous_create_is_recognised_despite_filled_in_defaults():
    with Emulator(dialect="newest") as emulator:
        emulator.inject("500-after", times=4, method="POST")
        with Client(base_url=emulator.base_url, token=emulator.token, backoff=0.001) as client:
            env = client.environments.create(SPEC)
        assert env.config["packages"]["type"] == "packages"  # the server's filled-in shape
        assert [e["id"] for e in emulator.environments()] == [env.id]

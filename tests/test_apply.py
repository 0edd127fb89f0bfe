"""``client.environments.apply`` and ``apply_all`` against the emulator over real HTTP: a re-run
writes nothing, a change is one update of what differs, ambiguous failures are settled, a list is
paced and reports each spec."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from qoder_jupyter._apply import WritePacer, apply_environment
from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import PaginationError, ValidationError
from qoder_jupyter.spec import EnvironmentSpec
from qoder_jupyter.update import EnvironmentUpdate

SPEC = EnvironmentSpec(
    name="ds",
    description="analysis",
    networking="allowlist",
    allowed_hosts=["pypi.org"],
    allow_package_managers=True,
    pip=["pandas>=2", "numpy"],
    metadata={"team": "data", "stage": "dev"},
)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    with Client(base_url=emulator.base_url, token=emulator.token, backoff=0.01) as client:
        yield client


def writes(emulator: Emulator, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests[since:] if r.method != "GET"]


def test_apply_creates_then_a_rerun_writes_nothing(client, emulator):
    first = client.environments.apply(SPEC)
    assert (first.action, first.done, first.result) == ("create", True, "created")
    assert first.environment is not None
    assert first.environment.name == "ds"
    assert writes(emulator) == [("POST", "/api/v1/cloud/environments")]
    seen = len(emulator.requests)

    again = client.environments.apply(SPEC.copy())
    assert (again.action, again.result) == ("unchanged", "unchanged")
    assert not again.diff
    assert again.environment is not None
    assert again.environment.id == first.environment.id
    assert writes(emulator, seen) == []
    assert len(emulator.environments()) == 1


def test_a_change_is_one_update_of_what_differs_and_metadata_keys_the_spec_lacks_go(
    client, emulator
):
    created = client.environments.apply(SPEC).environment
    changed = SPEC.copy()
    changed.pip = ["pandas>=2.2", "numpy"]
    changed.metadata = {"team": "data", "owner": "ana"}
    seen = len(emulator.requests)

    applied = client.environments.apply(changed)

    assert applied.action == "update"
    assert applied.diff.traits == {"pip", "metadata"}
    assert writes(emulator, seen) == [("POST", f"/api/v1/cloud/environments/{created.id}")]
    stored = emulator.environments()
    assert len(stored) == 1
    assert stored[0]["metadata"] == {"team": "data", "owner": "ana"}
    assert stored[0]["config"]["packages"] == {"pip": ["pandas>=2.2", "numpy"]}
    assert stored[0]["description"] == "analysis"
    assert applied.environment.to_spec() == changed


def test_the_update_sends_only_what_differs():
    live = SPEC.copy()
    wanted = SPEC.copy()
    wanted.description = "for the Q3 study"
    assert EnvironmentUpdate.to_reach(live, wanted, {"description"}).to_body() == {
        "description": "for the Q3 study"
    }
    wanted.metadata = {"team": "ml", "owner": "ana"}
    wanted.apt = ["curl"]
    body = EnvironmentUpdate.to_reach(live, wanted, {"metadata", "apt"}).to_body()
    assert body["metadata"] == {"team": "ml", "owner": "ana", "stage": None}
    assert body["config"] == wanted.to_body()["config"]  # a sent config is the whole config
    assert set(body) == {"config", "metadata"}


def test_an_update_applied_to_a_spec_is_what_the_service_would_hold():
    update = EnvironmentUpdate(description="new", metadata={"stage": None, "owner": "ana"})
    after = update.applied_to(SPEC)
    assert after.description == "new"
    assert after.metadata == {"team": "data", "owner": "ana"}
    assert after.pip == SPEC.pip
    assert SPEC.description == "analysis"  # the spec given is not changed


@pytest.mark.parametrize("dialect", ["seed", "newest", "legacy"])
def test_server_filled_defaults_are_not_differences(dialect):
    spec = EnvironmentSpec(name="plain", apt=["curl"])  # networking not given: limited
    with (
        Emulator(dialect=dialect) as emulator,
        Client(base_url=emulator.base_url, token=emulator.token) as client,
    ):
        client.environments.apply(spec)
        seen = len(emulator.requests)
        assert client.environments.apply(spec).action == "unchanged"
        assert writes(emulator, seen) == []


def test_order_of_a_list_is_not_a_difference(client, emulator):
    client.environments.apply(SPEC)
    reordered = SPEC.copy()
    reordered.pip = ["numpy", "pandas>=2"]
    assert client.environments.apply(reordered).action == "unchanged"


def test_an_archived_environment_of_the_name_is_not_the_one_applied(client, emulator):
    old = client.environments.apply(SPEC).environment
    old.archive()
    applied = client.environments.apply(SPEC)
    assert applied.action == "create"
    assert applied.environment.id != old.id
    assert len(emulator.environments()) == 2


def test_a_dry_run_plans_and_writes_nothing(client, emulator):
    plan = client.environments.apply(SPEC, dry_run=True)
    assert (plan.action, plan.done, plan.environment) == ("create", False, None)
    assert "pandas>=2" in str(plan.diff)
    client.environments.apply(SPEC)
    changed = SPEC.copy()
    changed.apt = ["curl"]
    seen = len(emulator.requests)
    planned = client.environments.apply(changed, dry_run=True)
    assert (planned.action, planned.diff.traits) == ("update", {"apt"})
    assert planned.environment is not None  # the live one
    assert writes(emulator, seen) == []


def test_an_invalid_spec_is_refused_before_anything_is_sent(client, emulator):
    with pytest.raises(ValidationError):
        client.environments.apply(EnvironmentSpec(name="", pip=["pandas>=>2"]))
    assert emulator.requests == []


def test_a_create_whose_answer_is_lost_is_reconciled_not_repeated(client, emulator):
    emulator.inject("reset-after", times=1, method="POST")
    applied = client.environments.apply(SPEC)
    assert applied.action == "create"
    assert len(emulator.environments()) == 1


def test_an_update_whose_answer_is_lost_is_settled_by_reading_it_back(emulator):
    # No retries: the lost answer is the last word, so only reading back can settle it.
    with Client(base_url=emulator.base_url, token=emulator.token, max_retries=0) as client:
        client.environments.apply(SPEC)
        changed = SPEC.copy()
        changed.npm = ["typescript@5"]
        emulator.inject("reset-after", times=1, method="POST")
        applied = client.environments.apply(changed)
    assert applied.action == "update"
    assert emulator.environments()[0]["config"]["packages"]["npm"] == ["typescript@5"]


def test_an_environment_created_since_the_look_up_is_updated_not_duplicated(client, emulator):
    # A plan made from an empty listing meets an environment someone else created meanwhile.
    client.environments.create(name="ds", pip=["pandas"])
    flow = apply_environment(SPEC, "key-1", client.retry_policy, known={})
    applied = client.run(flow)
    assert applied.action == "update"
    assert len(emulator.environments()) == 1
    assert emulator.environments()[0]["config"]["packages"]["pip"] == ["pandas>=2", "numpy"]


def test_apply_in_a_workspace_looks_and_writes_only_there(client, emulator):
    client.environments.apply(SPEC)
    applied = client.environments.apply(SPEC, workspace="ws_other")
    assert applied.action == "create"
    assert applied.environment.workspace == "ws_other"
    by_workspace = emulator.environments_by_workspace()
    assert [len(by_workspace[None]), len(by_workspace["ws_other"])] == [1, 1]


# --- a list ---------------------------------------------------------------------------------------


def specs(count: int) -> list[EnvironmentSpec]:
    return [EnvironmentSpec(name=f"env-{i}", pip=["pandas"]) for i in range(count)]


def test_a_list_applies_each_reports_progress_and_a_rerun_writes_nothing(client, emulator):
    seen_progress: list[tuple[int, int, str, str]] = []

    def progress(done, total, applied):
        seen_progress.append((done, total, applied.name, applied.result))

    plan = client.environments.apply_all(specs(3), progress=progress)
    assert [item.result for item in plan] == ["created"] * 3
    assert seen_progress == [(i + 1, 3, f"env-{i}", "created") for i in range(3)]
    assert plan.done
    assert len(plan.environments) == 3

    seen = len(emulator.requests)
    again = client.environments.apply_all(specs(3))
    assert [item.result for item in again] == ["unchanged"] * 3
    assert writes(emulator, seen) == []
    # One listing serves the whole list.
    assert [r.method for r in emulator.requests[seen:]] == ["GET"]


def test_a_list_with_a_bad_spec_or_a_repeated_name_applies_the_others(client, emulator):
    given = [
        EnvironmentSpec(name="good", apt=["curl"]),
        {"name": "bad", "config": {"type": "cloud", "packages": {"pip": ["pandas>=>2"]}}},
        EnvironmentSpec(name="good", apt=["git"]),
        {"name": "typo", "confg": {}},
    ]
    plan = client.environments.apply_all(given)
    assert [(item.name, item.result) for item in plan] == [
        ("good", "created"),
        ("bad", "failed"),
        ("good", "failed"),
        ("typo", "failed"),
    ]
    assert "pandas>=2" in plan[1].reason  # the rule's fix
    assert "spec #3 has the name of spec #1" in plan[2].reason
    assert "confg" in plan[3].reason
    assert [e["name"] for e in emulator.environments()] == ["good"]


def test_a_dry_run_of_a_list_plans_each(client, emulator):
    client.environments.apply(EnvironmentSpec(name="env-0", pip=["pandas"]))
    given = specs(2)
    given[0].pip = ["pandas>=2"]
    seen = len(emulator.requests)
    plan = client.environments.apply_all(given, dry_run=True)
    assert [item.action for item in plan] == ["update", "create"]
    assert not plan.done
    assert writes(emulator, seen) == []


def test_writes_of_a_list_are_paced_to_twenty_a_second(client, emulator):
    import time

    started = time.monotonic()
    client.environments.apply_all(specs(11))
    # Ten gaps of at least 1/20 s between eleven writes (a slow machine only adds to it).
    assert time.monotonic() - started >= 10 / 20


def test_a_throttled_write_slows_the_pace():
    pacer = WritePacer(rate=20)
    assert pacer.delay(0.0) == 0.0
    assert pacer.delay(0.0) == pytest.approx(0.05)
    pacer.answered(429)
    pacer.answered(429)
    assert pacer.interval == pytest.approx(0.2)
    for _ in range(100):
        pacer.answered(201)
    assert pacer.interval == pytest.approx(0.05)
    for _ in range(10):
        pacer.answered(429)
    assert pacer.interval == WritePacer.SLOWEST


def test_a_list_meeting_429s_backs_off_and_completes(emulator):
    emulator.retry_after = 0
    with Client(base_url=emulator.base_url, token=emulator.token, backoff=0.01) as client:
        emulator.inject("429", times=2, method="POST")
        plan = client.environments.apply_all(specs(3))
    assert [item.result for item in plan] == ["created"] * 3
    assert len(emulator.environments()) == 3
    assert [r.status for r in emulator.requests if r.method == "POST"][:2] == [429, 429]


def test_the_async_client_applies_the_same_way(emulator):
    async def run():
        async with AsyncClient(base_url=emulator.base_url, token=emulator.token) as client:
            first = await client.environments.apply(SPEC)
            again = await client.environments.apply(SPEC)
            plan = await client.environments.apply_all([SPEC, *specs(2)])
            return first, again, plan

    first, again, plan = asyncio.run(run())
    assert (first.action, again.action) == ("create", "unchanged")
    assert [item.result for item in plan] == ["unchanged", "created", "created"]
    assert plan[0].environment.id == first.environment.id
    # Bound for its lifecycle helpers, like every environment the async client returns.
    assert plan[1].environment.refresh().name == "env-0"


def test_a_listing_that_never_ends_stops_the_apply_before_any_write(client, emulator):
    client.environments.create(name="other", pip=["numpy"])
    emulator.inject("cursor-repeat", times=5)
    with pytest.raises(PaginationError):
        client.environments.apply(SPEC)
    with pytest.raises(PaginationError):
        client.environments.apply_all([SPEC])
    assert [e["name"] for e in emulator.environments()] == ["other"]


def test_update_to_sends_only_what_differs_by_id_even_a_new_name(client, emulator):
    live = client.environments.create(name="before", pip=["numpy"], metadata={"team": "a"})
    since = len(emulator.requests)
    spec = live.to_spec()
    spec.name, spec.pip = "after", ["numpy", "pandas>=2"]
    updated = client.environments.update_to(live, spec)
    assert updated.id == live.id
    assert updated.to_spec() == spec
    assert writes(emulator, since) == [("POST", f"/api/v1/cloud/environments/{live.id}")]
    assert updated.metadata == {"team": "a"}

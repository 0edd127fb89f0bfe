"""Declared environments under a hostile service: a list applied while half the requests fail
(server errors before and after acting, resets after acting, throttling, mangled answers, cursors
that repeat) converges by re-running it, as a notebook is re-run: never a duplicate, never a
write once it matches, and in the end every environment equals its spec."""

from __future__ import annotations

from collections import Counter

from qoder_jupyter.client import Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import QoderError
from qoder_jupyter.spec import EnvironmentSpec

FAULTS = (
    "500-before", "500-after", "429", "503-empty", "reset-after", "bad-encoding", "bad-utf8",
    "cursor-repeat",
)  # fmt: skip
COUNT = 30
RUNS = 20  # "Run All" again, at most this many times


def specs(version: int) -> list[EnvironmentSpec]:
    return [
        EnvironmentSpec(
            name=f"declared-{i}",
            pip=[f"pandas>={version}", "numpy"] if i % 2 else ["requests"],
            metadata={"team": "data", "index": str(i), **({"v": str(version)} if i % 3 else {})},
        )
        for i in range(COUNT)
    ]


def converge(client: Client, wanted: list[EnvironmentSpec]) -> int:
    """Apply ``wanted`` again and again until no item fails; how many runs it took."""
    for run in range(1, RUNS + 1):
        try:
            plan = client.environments.apply_all(wanted)
        except QoderError:  # the listing itself failed (a repeated cursor...): run it again
            continue
        if not plan.failed:
            return run
    raise AssertionError(f"still failing after {RUNS} runs")


def assert_stored_as(emulator: Emulator, wanted: list[EnvironmentSpec]) -> None:
    stored = emulator.environments()
    names = Counter(environment["name"] for environment in stored)
    assert max(names.values()) == 1, "a duplicate"
    assert sorted(names) == sorted(spec.name for spec in wanted)
    by_name = {environment["name"]: environment for environment in stored}
    for spec in wanted:
        got = by_name[spec.name]
        assert got["metadata"] == spec.metadata
        assert got["config"]["packages"]["pip"] == spec.pip


def test_a_declared_list_converges_under_faults_and_then_writes_nothing():
    with (
        Emulator(fault_rate=0.5, fault_kinds=FAULTS, seed=7, retry_after=0) as emulator,
        Client(
            base_url=emulator.base_url,
            token=emulator.token,
            backoff=0.01,
            attempt_timeout=5,
            max_retries=1,  # so that some items fail, and only a re-run applies them
        ) as client,
    ):
        runs = converge(client, specs(2))
        emulator.fault_rate = 0
        assert_stored_as(emulator, specs(2))
        # An edit of half of them, under faults again: updated in place, never recreated.
        ids = {environment["name"]: environment["id"] for environment in emulator.environments()}
        emulator.fault_rate = 0.5
        runs += converge(client, specs(3))
        emulator.fault_rate = 0
        assert_stored_as(emulator, specs(3))
        assert {e["name"]: e["id"] for e in emulator.environments()} == ids
        seen = len(emulator.requests)
        plan = client.environments.apply_all(specs(3))
        assert [item.action for item in plan] == ["unchanged"] * COUNT
        assert [r.method for r in emulator.requests[seen:]] == ["GET"]
        faults = Counter(r.fault for r in emulator.requests if r.fault)
    assert sum(faults.values()) >= 10  # the faults did happen, of several kinds
    assert len(faults) >= 5
    assert runs > 2, "no spec needed a re-run: the faults tested nothing"

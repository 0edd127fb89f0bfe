"""The fault soak of ``make soak`` (benchmarks/soak.py), short: both clients create under 30 %
faults of every kind while the emulator, a process of its own on an SQLite file, is killed and
restarted."""

from __future__ import annotations

import pytest

from benchmarks.soak import Outcome, outcome_of, render, run_soak, tally, verdict
from qoder_jupyter.errors import APIConnectionError, OutcomeUnknownError, ServerError


def test_a_short_soak_with_a_restart_loses_and_duplicates_nothing(tmp_path):
    report = run_soak(count=60, concurrency=8, workdir=tmp_path)

    assert report.restarted_after is not None
    assert report.downtime > 0
    assert report.in_flight_verdicts["lost"] == report.in_flight_verdicts["duplicate"] == 0
    assert report.crashed == []
    for counts in (report.first, report.final):
        assert counts["lost"] == counts["duplicate"] == 0, render(report)
        assert sum(counts.values()) == 120
    assert report.final["outcome unknown"] == 0  # every unknown was settled by its key
    assert report.stored == report.final["created"] >= 100, render(report)
    assert "nothing lost, nothing duplicated" in render(report)


@pytest.mark.parametrize(
    ("outcome", "stored", "expected"),
    [
        (Outcome("ok", env_id="env_a"), ["env_a"], "created"),
        (Outcome("ok", env_id="env_a"), [], "lost"),  # reported created, not there
        (Outcome("ok", env_id="env_a"), ["env_b"], "lost"),  # a different one is there
        (Outcome("failed"), [], "failed cleanly"),
        (Outcome("failed"), ["env_a"], "lost"),  # reported failed, but it exists
        (Outcome("unknown", idempotency_key="k"), ["env_a"], "outcome unknown"),
        (Outcome("unknown", idempotency_key="k"), [], "outcome unknown"),
        (Outcome("crashed"), [], "lost"),
        (None, [], "lost"),  # the client never said
        (Outcome("ok", env_id="env_a"), ["env_a", "env_b"], "duplicate"),
    ],
)
def test_verdicts(outcome, stored, expected):
    assert verdict(outcome, stored) == expected


def test_outcomes_and_tally():
    unknown = OutcomeUnknownError("?", name="x", idempotency_key="key-1")
    assert outcome_of(None, "env_a") == Outcome("ok", env_id="env_a")
    assert outcome_of(unknown) == Outcome(
        "unknown", idempotency_key="key-1", error="OutcomeUnknownError"
    )
    assert outcome_of(ServerError("boom", status_code=500)).result == "failed"
    assert outcome_of(APIConnectionError("down")).result == "failed"
    assert outcome_of(KeyError("bug")).result == "crashed"

    stored = [
        {"name": "a", "id": "env_a"},
        {"name": "c", "id": "env_c1"},
        {"name": "c", "id": "env_c2"},
    ]
    outcomes = {
        "a": Outcome("ok", env_id="env_a"),
        "b": Outcome("failed"),
        "c": Outcome("ok", env_id="env_c1"),
    }
    assert tally(outcomes, stored) == {"created": 1, "failed cleanly": 1, "duplicate": 1}

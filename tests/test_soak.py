"""The fault soak of ``make soak`` (benchmarks/soak.py), short: both clients create under 30 %
faults of every kind (the hostile ones too) while the emulator, a process of its own on an SQLite
file, is killed and restarted; then they list everything under the same faults."""

from __future__ import annotations

import pytest

from benchmarks.soak import (
    Limits,
    Outcome,
    leak_places,
    outcome_of,
    render,
    run_soak,
    tally,
    verdict,
)
from qoder_jupyter.errors import APIConnectionError, OutcomeUnknownError, ServerError


def test_a_short_soak_with_a_restart_loses_duplicates_hangs_and_leaks_nothing(tmp_path):
    report = run_soak(
        count=60,
        concurrency=8,
        workdir=tmp_path,
        attempt_timeout=1.0,
        drip_interval=0.05,
        max_response_bytes=4 << 20,
        listings=2,
    )

    assert report.restarted_after is not None
    assert report.downtime > 0
    assert report.in_flight_verdicts["lost"] == report.in_flight_verdicts["duplicate"] == 0, render(
        report
    )
    assert report.crashed == [], render(report)
    for counts in (report.first, report.final):
        assert counts["lost"] == counts["duplicate"] == 0, render(report)
        assert sum(counts.values()) == 120
    assert report.final["outcome unknown"] == 0  # every unknown was settled by its key
    assert report.stored == report.final["created"] >= 100, render(report)
    assert report.hangs == [], render(report)
    assert 0 < report.longest_create <= report.create_bound
    assert report.bad_listings == [], render(report)
    assert len(report.clients[0].lists.results) == len(report.clients[1].lists.results) == 2
    assert report.token_leaks == [], render(report)
    assert report.log_records > 500  # httpx, httpcore and the client were watched at DEBUG
    assert "nothing lost, nothing duplicated, nothing hung" in render(report)


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


def test_the_bound_of_a_call_is_every_attempt_timing_out_plus_the_backoff():
    limits = Limits(attempt_timeout=2.0, max_retries=3, backoff=0.5)

    assert limits.exchange() == 4 * 2.0 + (0.5 + 1.0 + 2.0)
    assert limits.create() > 6 * limits.exchange()  # the POST and five pages of look-up
    assert Limits(2.0, 8, 0.5).exchange() == 9 * 2.0 + (0.5 + 1 + 2 + 4 + 8 + 8 + 8 + 8)


class _Carrier(Exception):
    def __init__(self, message, **attributes):
        super().__init__(message)
        vars(self).update(attributes)


def test_leak_places_finds_the_token_wherever_an_error_holds_it():
    token = "pt-secret-123"
    clean = _Carrier("request failed", status=500)
    try:
        try:
            raise _Carrier("inner", body=f"<p>{token}</p>".encode())
        except _Carrier as inner:
            raise _Carrier("outer", headers={"x-debug-auth": f"Bearer {token}"}) from inner
    except _Carrier as error:
        chained = error

    assert leak_places(clean, token) == []
    assert leak_places(_Carrier(f"bad token {token}"), token) == [
        "str(_Carrier)",
        "repr(_Carrier)",
        "traceback",
    ]
    assert set(leak_places(chained, token)) == {"_Carrier.headers", "_Carrier.body"}

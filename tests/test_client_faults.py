"""Retries, idempotency and reconciliation, against the emulator's injected faults over real HTTP.

The rule under test: a create is never duplicated, and never reported as failed when it succeeded;
when the client cannot know, it says so with OutcomeUnknownError. (Random faults at 30 % and a
killed emulator: test_soak.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from qoder_jupyter.client import Client
from qoder_jupyter.emulator import Emulator, RequestRecord
from qoder_jupyter.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConflictError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    with Client(base_url=emulator.base_url, token=emulator.token, backoff=0.01, seed=0) as client:
        yield client


def _posts(emulator: Emulator) -> list[RequestRecord]:
    return [r for r in emulator.requests if r.method == "POST"]


@pytest.mark.parametrize("kind", ["500-before", "500-after", "503-empty", "reset-after", "429"])
def test_one_fault_then_success_creates_exactly_once_with_one_key(client, emulator, kind):
    emulator.retry_after = 0
    emulator.inject(kind, method="POST")
    env = client.environments.create(name=f"after-{kind}")
    assert [e["id"] for e in emulator.environments()] == [env.id]
    posts = _posts(emulator)
    assert len(posts) == 2
    assert posts[0].fault == kind
    assert posts[0].idempotency_key == posts[1].idempotency_key is not None
    assert posts[0].request_id != posts[1].request_id


def test_retry_after_is_honoured(client, emulator):
    emulator.retry_after = 1
    emulator.inject("429", method="POST")
    started = time.monotonic()
    client.environments.create(name="patient")
    assert time.monotonic() - started >= 0.95


def test_a_retry_after_longer_than_the_cap_is_not_waited_for(emulator):
    emulator.retry_after = 3600
    emulator.inject("429", method="GET")
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            client.environments.list()
    assert time.monotonic() - started < 5
    assert caught.value.status_code == 429
    assert len(emulator.requests) == 1


def test_client_errors_are_never_retried(client, emulator):
    crowded = client.environments.create(name="dup", metadata={f"k{i}": "v" for i in range(16)})
    with Client(base_url=emulator.base_url, token="pt-wrong", backoff=0.01) as stranger:
        calls = [
            (400, lambda: client.environments.update(crowded.id, metadata={"k16": "v"})),
            (401, lambda: stranger.environments.list()),
            (404, lambda: client.environments.retrieve("env_" + "0" * 32)),
            (409, lambda: client.environments.create(name="dup")),
        ]
        for status, call in calls:
            before = len(emulator.requests)
            with pytest.raises(APIStatusError) as caught:
                call()
            assert caught.value.status_code == status
            assert len(emulator.requests) == before + 1, status


def test_every_attempt_failing_after_acting_still_returns_the_environment(client, emulator):
    emulator.inject("500-after", times=4, method="POST")
    env = client.environments.create(name="found-by-lookup", apt=["curl"])
    assert [e["id"] for e in emulator.environments()] == [env.id]
    assert len(_posts(emulator)) == 4
    assert any(r.method == "GET" for r in emulator.requests)  # it looked the environment up


def test_every_attempt_failing_before_acting_is_a_definite_failure(client, emulator):
    emulator.inject("500-before", times=4, method="POST")
    with pytest.raises(ServerError):
        client.environments.create(name="never-made")
    assert emulator.environments() == []


def test_a_create_that_cannot_be_checked_is_outcome_unknown_and_retryable(client, emulator):
    emulator.inject("reset-after", times=4, method="POST")
    emulator.inject("500-before", times=4, method="GET")
    with pytest.raises(OutcomeUnknownError) as caught:
        client.environments.create(name="limbo")
    error = caught.value
    assert error.name == "limbo"
    assert error.idempotency_key in str(error)
    assert {r.idempotency_key for r in _posts(emulator)} == {error.idempotency_key}
    assert len(emulator.environments()) == 1  # it did happen

    again = client.environments.create(name="limbo", idempotency_key=error.idempotency_key)
    assert [e["id"] for e in emulator.environments()] == [again.id]


def test_a_409_after_an_ambiguous_attempt_adopts_the_matching_environment(client, emulator):
    existing = client.environments.create(name="same", pip=["numpy"])
    emulator.inject("500-before", method="POST")
    # A fresh key: the emulator cannot replay, so the retry meets the name conflict.
    assert client.environments.create(name="same", pip=["numpy"]) == existing
    assert len(emulator.environments()) == 1


def test_a_409_after_an_ambiguous_attempt_for_a_different_body_is_a_conflict(client, emulator):
    client.environments.create(name="taken", pip=["numpy"])
    emulator.inject("500-before", method="POST")
    with pytest.raises(ConflictError):
        client.environments.create(name="taken", pip=["pandas"])
    assert len(emulator.environments()) == 1


def test_read_timeouts_do_not_duplicate(emulator):
    emulator.latency = 0.4
    with (
        Client(
            base_url=emulator.base_url,
            token=emulator.token,
            timeout=0.1,
            max_retries=2,
            backoff=0.01,
        ) as client,
        pytest.raises(OutcomeUnknownError) as caught,
    ):
        client.environments.create(name="slow")
    time.sleep(1.0)  # let the server finish the requests the client gave up on
    assert len(emulator.environments()) == 1
    emulator.latency = 0
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        env = client.environments.create(name="slow", idempotency_key=caught.value.idempotency_key)
    assert [e["id"] for e in emulator.environments()] == [env.id]


def test_a_refused_connection_is_a_connection_error(emulator):
    base_url = emulator.base_url
    emulator.stop()
    client = Client(base_url=base_url, token="pt-x", max_retries=1, backoff=0.01)
    with client, pytest.raises(APIConnectionError) as caught:
        client.environments.create(name="nobody-home")
    assert not isinstance(caught.value, APITimeoutError | OutcomeUnknownError)


def test_a_delete_whose_answer_was_lost_still_succeeds(client, emulator):
    env = client.environments.create(name="to-delete")
    emulator.inject("reset-after", method="DELETE")
    assert client.environments.delete(env.id).id == env.id
    assert emulator.environments() == []

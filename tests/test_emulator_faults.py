"""Idempotency keys, injected and random faults, and the request records, over real HTTP.

The point of all three: a client must be able to prove it never creates twice and never loses a
creation, whatever the server or a gateway does.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx
import pytest

from qoder_jupyter.emulator import API_PREFIX, Emulator

from .test_emulator_helpers import (
    SEED_BODY,
    SEED_CONFIG,
    assert_error,
    body_with,
    create,
    loopback_client,
)

# --- idempotency (§1) -----------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_answer(api: httpx.Client, emulator: Emulator) -> None:
    headers = {"Idempotency-Key": "key-1"}

    first = api.post("/environments", json=SEED_BODY, headers=headers)
    second = api.post("/environments", json=SEED_BODY, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(emulator.environments()) == 1


def test_same_key_with_reordered_json_is_the_same_request(
    api: httpx.Client, emulator: Emulator
) -> None:
    headers = {"Idempotency-Key": "key-1", "Content-Type": "application/json"}
    reordered = {"config": SEED_CONFIG, "name": "doc-test-env"}

    first = api.post("/environments", content=json.dumps(SEED_BODY), headers=headers)
    second = api.post("/environments", content=json.dumps(reordered, indent=2), headers=headers)

    assert second.json()["id"] == first.json()["id"]
    assert len(emulator.environments()) == 1


def test_same_key_with_another_body_is_409(api: httpx.Client, emulator: Emulator) -> None:
    headers = {"Idempotency-Key": "key-1"}
    api.post("/environments", json=SEED_BODY, headers=headers)

    response = api.post("/environments", json=body_with(name="other"), headers=headers)

    body = assert_error(response, 409, "conflict_error")
    assert body["error"]["message"] == "Idempotency key reused with a different request body"
    assert len(emulator.environments()) == 1


def test_same_key_on_another_path_is_409(api: httpx.Client) -> None:
    env_id = create(api)["id"]
    headers = {"Idempotency-Key": "key-1"}
    api.post(f"/environments/{env_id}", json={"description": "x"}, headers=headers)

    response = api.post("/environments", json={"description": "x"}, headers=headers)

    assert_error(response, 409, "conflict_error")


def test_keys_are_per_token(http: httpx.Client) -> None:
    with Emulator(tokens=["pt-alice", "pt-bob"]) as emulator:
        for token, name in (("pt-alice", "a"), ("pt-bob", "b")):
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "shared"}
            response = http.post(
                f"{emulator.base_url}/environments", json=body_with(name=name), headers=headers
            )
            assert response.status_code == 201
            assert "idempotent-replayed" not in response.headers
        assert len(emulator.environments()) == 2


def test_failed_requests_are_not_recorded(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "key-1"}
    create(api)  # takes the name

    assert api.post("/environments", json=SEED_BODY, headers=headers).status_code == 409
    api.delete(f"/environments/{api.get('/environments').json()['data'][0]['id']}")
    assert api.post("/environments", json=SEED_BODY, headers=headers).status_code == 201


def test_archive_with_a_key_replays(api: httpx.Client) -> None:
    env_id = create(api)["id"]
    headers = {"Idempotency-Key": "archive-1"}

    first = api.post(f"/environments/{env_id}/archive", json={}, headers=headers)
    second = api.post(f"/environments/{env_id}/archive", json={}, headers=headers)

    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"


def test_an_over_long_key_is_400(api: httpx.Client) -> None:
    response = api.post("/environments", json=SEED_BODY, headers={"Idempotency-Key": "k" * 256})

    assert_error(response, 400, "invalid_request_error", "Idempotency-Key")


def test_concurrent_requests_with_one_key_create_once(
    emulator: Emulator, http: httpx.Client
) -> None:
    answers: list[httpx.Response] = []
    headers = {"Authorization": f"Bearer {emulator.token}", "Idempotency-Key": "race"}

    def attempt() -> None:
        answers.append(
            http.post(f"{emulator.base_url}/environments", json=SEED_BODY, headers=headers)
        )

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert len(emulator.environments()) == 1


# --- faults ---------------------------------------------------------------------------------------


def test_500_before_does_nothing(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("500-before")

    assert_error(api.post("/environments", json=SEED_BODY), 500, "api_error")
    assert emulator.environments() == []
    assert api.post("/environments", json=SEED_BODY).status_code == 201


def test_500_after_acts_and_a_keyed_retry_replays(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("500-after")
    headers = {"Idempotency-Key": "retry-me"}

    assert_error(api.post("/environments", json=SEED_BODY, headers=headers), 500, "api_error")
    [stored] = emulator.environments()
    retry = api.post("/environments", json=SEED_BODY, headers=headers)

    assert retry.status_code == 201
    assert retry.json() == stored
    assert len(emulator.environments()) == 1


def test_500_before_then_keyed_retry_creates_once(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("500-before")
    headers = {"Idempotency-Key": "retry-me"}

    assert api.post("/environments", json=SEED_BODY, headers=headers).status_code == 500
    retry = api.post("/environments", json=SEED_BODY, headers=headers)

    assert retry.status_code == 201
    assert "idempotent-replayed" not in retry.headers
    assert len(emulator.environments()) == 1


def test_429_has_retry_after_and_an_error_body(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("429")

    response = api.post("/environments", json=SEED_BODY)

    assert_error(response, 429, "rate_limit_error")
    assert response.headers["retry-after"] == "1"
    assert emulator.environments() == []


def test_retry_after_is_configurable_and_changes_at_run_time(http: httpx.Client) -> None:
    with Emulator(retry_after=7) as emulator:
        emulator.inject("429", times=2)
        first = http.get(f"{emulator.base_url}/environments")
        emulator.retry_after = 3600
        second = http.get(f"{emulator.base_url}/environments")

    assert (first.headers["retry-after"], second.headers["retry-after"]) == ("7", "3600")


def test_503_empty_has_no_body(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("503-empty")

    response = api.post("/environments", json=SEED_BODY)

    assert response.status_code == 503
    assert response.content == b""
    assert "x-request-id" in response.headers
    assert emulator.environments() == []


def test_reset_after_acts_then_drops_the_connection(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("reset-after")
    headers = {"Idempotency-Key": "reset"}

    with pytest.raises(httpx.TransportError):
        api.post("/environments", json=SEED_BODY, headers=headers)
    [stored] = emulator.environments()
    retry = api.post("/environments", json=SEED_BODY, headers=headers)

    assert retry.json() == stored
    assert retry.headers["idempotent-replayed"] == "true"
    assert emulator.requests[0].fault == "reset-after"
    assert emulator.requests[0].status is None


def test_injected_faults_follow_the_method_filter_and_count(
    api: httpx.Client, emulator: Emulator
) -> None:
    emulator.inject("500-before", times=2, method="post")

    assert api.get("/environments").status_code == 200
    assert api.post("/environments", json=SEED_BODY).status_code == 500
    assert api.post("/environments", json=SEED_BODY).status_code == 500
    assert api.post("/environments", json=SEED_BODY).status_code == 201
    assert [record.fault for record in emulator.requests] == [
        None,
        "500-before",
        "500-before",
        None,
    ]


def test_injected_faults_apply_in_order(api: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("429")
    emulator.inject("503-empty")

    assert [api.get("/environments").status_code for _ in range(3)] == [429, 503, 200]


def test_unknown_fault_kind_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="500-before"):
        emulator.inject("teapot")
    with pytest.raises(ValueError, match="unknown fault kind"):
        Emulator(fault_kinds=["429", "teapot"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        Emulator(fault_rate=1.5)


def test_openapi_never_gets_faults(emulator: Emulator, http: httpx.Client) -> None:
    emulator.inject("500-before")

    assert http.get(emulator.base_url + "/openapi.json").status_code == 200
    assert http.get(f"{emulator.base_url}/environments").status_code == 500


def _fault_sequence(seed: int) -> list[str | None]:
    with Emulator(seed=seed, fault_rate=0.5, fault_kinds=["429", "500-before"]) as emulator:
        with loopback_client(base_url=emulator.base_url) as client:
            for _ in range(20):
                client.get("/environments")
        return [record.fault for record in emulator.requests]


def test_random_faults_are_reproducible_with_a_seed() -> None:
    first, second = _fault_sequence(3), _fault_sequence(3)

    assert first == second
    assert set(first) == {None, "429", "500-before"}


def test_fault_rate_changes_at_run_time() -> None:
    with (
        Emulator(fault_kinds=["429"]) as emulator,
        loopback_client(base_url=emulator.base_url) as api,
    ):
        emulator.fault_rate = 1.0
        assert [api.get("/environments").status_code for _ in range(3)] == [429] * 3
        emulator.fault_rate = 0.0
        assert api.get("/environments").status_code == 401


def test_latency_delays_each_api_request(api: httpx.Client, emulator: Emulator) -> None:
    emulator.latency = 0.05
    started = time.perf_counter()

    assert api.get("/environments").status_code == 200
    assert time.perf_counter() - started >= 0.05


# --- records and secrets --------------------------------------------------------------------------


def test_requests_are_recorded_without_any_token(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, canary: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="qoder_jupyter.emulator")
    wrong = canary
    with loopback_client(base_url=emulator.base_url) as client:
        auth = {"Authorization": f"Bearer {emulator.token}"}
        client.post("/environments", json=SEED_BODY, headers={**auth, "Idempotency-Key": "k1"})
        client.get("/environments?limit=5", headers={**auth, "x-request-id": "trace-1"})
        client.get("/environments", headers={"Authorization": f"Bearer {wrong}"})
        client.get("/environments", headers={"x-api-key": emulator.token})

    first, second, third, fourth = emulator.requests
    assert (first.method, first.path, first.idempotency_key, first.status) == (
        "POST",
        f"{API_PREFIX}/environments",
        "k1",
        201,
    )
    assert (second.query, second.request_id, second.status, second.fault) == (
        "limit=5",
        "trace-1",
        200,
        None,
    )
    assert (third.status, fourth.status) == (401, 401)
    for secret in (emulator.token, wrong):
        assert secret not in repr(emulator.requests)
        assert secret not in caplog.text
        assert secret not in repr(emulator)


def test_openapi_requests_are_not_recorded(emulator: Emulator, http: httpx.Client) -> None:
    http.get(emulator.base_url + "/openapi.json")

    assert emulator.requests == []

"""The client against a hostile network: a proxy on 127.0.0.1 (tests/_hostile.py) in front of a
real emulator mangles answers the way broken gateways and half-broken services do. Each test
asserts on what the emulator received and stored, not only on what the client returned: nothing
hangs, nothing is created twice, nothing is reported lost, every failure is typed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    OutcomeUnknownError,
    PaginationError,
    ResponseError,
    ResponseTooLargeError,
    ServerError,
)
from tests._hostile import HostileProxy, wait_until

#: Short limits, so a test that would hang fails in seconds instead.
ATTEMPT_TIMEOUT = 1.0
LIMIT = 1024 * 1024


@pytest.fixture
def upstream(canary: str) -> Iterator[Emulator]:
    with Emulator(tokens=[canary], seed=0) as emulator:
        yield emulator


@pytest.fixture
def proxy(upstream: Emulator) -> Iterator[HostileProxy]:
    with HostileProxy(upstream.base_url) as running:
        yield running


def _client(proxy: HostileProxy, canary: str, **options: object) -> Client:
    settings: dict[str, object] = {
        "base_url": proxy.base_url,
        "token": canary,
        "backoff": 0.01,
        "attempt_timeout": ATTEMPT_TIMEOUT,
        "max_response_bytes": LIMIT,
        **options,
    }
    return Client(**settings)  # type: ignore[arg-type]


@pytest.fixture
def client(proxy: HostileProxy, canary: str) -> Iterator[Client]:
    with _client(proxy, canary) as made:
        yield made


def _creates(emulator: Emulator) -> list[str]:
    return [r.idempotency_key or "" for r in emulator.requests if r.method == "POST"]


# --- 1. pagination that never ends -----------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"fresh": True}, {"by_last_id": True}],
    ids=["same-cursor", "fresh-cursor-same-page", "same-last-id"],
)
def test_a_listing_whose_pages_do_not_advance_stops_with_a_typed_error(
    client, proxy, upstream, options
):
    for i in range(3):
        client.environments.create(name=f"page-{i}")
    proxy.inject("repeat-cursor", times=1000, method="GET", **options)
    before = len(upstream.requests)
    with pytest.raises(PaginationError, match="would never end"):
        list(client.environments.list_all(limit=2))
    assert len(upstream.requests) - before <= 3  # stopped at the first repeat


def test_a_reconciliation_whose_lookup_never_ends_is_outcome_unknown_with_the_key(
    client, proxy, upstream
):
    proxy.inject("silence", method="POST", seconds=3)  # created; the answer never comes
    proxy.inject("repeat-cursor", times=1000, method="GET", fabricate=True)
    proxy.inject("silence", times=3, method="POST", seconds=3)  # the retries: no answer either
    with pytest.raises(OutcomeUnknownError) as caught:
        client.environments.create(name="lost-in-pages")
    error = caught.value
    assert error.idempotency_key in str(error)
    assert len({*_creates(upstream)}) == 1  # one key, whatever the retries
    lookups = [r for r in upstream.requests if r.method == "GET"]
    assert 1 <= len(lookups) <= 5  # bounded
    # The key settles it: the same create again returns the one environment.
    again = client.environments.create(name="lost-in-pages", idempotency_key=error.idempotency_key)
    assert [e["id"] for e in upstream.environments()] == [again.id]


# --- 2. a total deadline per attempt ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["drip", "drip-headers", "silence"])
def test_a_server_that_answers_too_slowly_is_cut_off_at_the_attempt_deadline(
    canary, proxy, upstream, mode
):
    with _client(proxy, canary, max_retries=0) as client:
        env = client.environments.create(name="slow")
        proxy.inject(mode, method="GET")
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.environments.retrieve(env.id)
        elapsed = time.monotonic() - started
    assert elapsed < ATTEMPT_TIMEOUT + 0.5
    assert wait_until(lambda: proxy.live_threads() == 0 or mode == "silence")


def test_a_dripped_create_is_reconciled_not_repeated(client, proxy, upstream):
    proxy.inject("drip", times=4, method="POST")
    started = time.monotonic()
    env = client.environments.create(name="dripped", pip=["numpy"])
    # Four attempts cut at their deadline, then the look-up that finds it.
    assert time.monotonic() - started < 4 * (ATTEMPT_TIMEOUT + 0.5) + 2
    assert [e["id"] for e in upstream.environments()] == [env.id]
    assert len(set(_creates(upstream))) == 1


def test_the_async_client_has_the_same_deadline(canary, proxy, upstream):
    async def scenario() -> float:
        async with AsyncClient(
            base_url=proxy.base_url, token=canary, attempt_timeout=ATTEMPT_TIMEOUT, max_retries=0
        ) as client:
            env = await client.environments.create(name="slow-async")
            proxy.inject("drip", method="GET")
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.environments.retrieve(env.id)
            return time.monotonic() - started

    assert asyncio.run(scenario()) < ATTEMPT_TIMEOUT + 0.5


# --- 3. a bounded response -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["endless", "gzip-bomb"])
def test_an_answer_past_the_size_limit_is_abandoned(client, proxy, upstream, mode):
    proxy.inject(mode, times=4, method="GET")
    with pytest.raises(ResponseTooLargeError):
        client.environments.list()
    if mode == "endless":  # the proxy saw the client hang up long before its own bound
        assert wait_until(lambda: len(proxy.bytes_sent) == 4)
        assert max(proxy.bytes_sent) < 64 * LIMIT


def test_an_oversized_create_answer_is_reconciled(client, proxy, upstream):
    proxy.inject("endless", times=4, method="POST")
    env = client.environments.create(name="oversized")
    assert [e["id"] for e in upstream.environments()] == [env.id]


# --- 4. every transport failure is typed ----------------------------------------------------

MANGLED = ["lying-gzip", "bad-chunking", "bad-utf8", "deep-json", "deep-json-object", "not-json"]


@pytest.mark.parametrize("mode", MANGLED)
def test_a_mangled_answer_to_a_read_is_a_typed_error(client, proxy, upstream, mode):
    env = client.environments.create(name="to-read")
    proxy.inject(mode, times=4, method="GET")
    with pytest.raises(APIError) as caught:
        client.environments.retrieve(env.id)
    assert isinstance(caught.value, ResponseError | APIConnectionError)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


@pytest.mark.parametrize("mode", MANGLED)
def test_a_mangled_answer_to_a_create_is_reconciled(client, proxy, upstream, mode):
    proxy.inject(mode, times=4, method="POST")
    env = client.environments.create(name=f"mangled-{mode}", apt=["curl"])
    assert [e["id"] for e in upstream.environments()] == [env.id]
    assert env.name == f"mangled-{mode}"
    assert len(set(_creates(upstream))) == 1


@pytest.mark.parametrize("mode", MANGLED)
def test_the_async_client_types_them_too(canary, proxy, upstream, mode):
    async def scenario() -> None:
        async with AsyncClient(base_url=proxy.base_url, token=canary, backoff=0.01) as client:
            proxy.inject(mode, times=4, method="POST")
            env = await client.environments.create(name=f"async-{mode}")
            assert [e["id"] for e in upstream.environments()] == [env.id]
            proxy.inject(mode, times=4, method="GET")
            with pytest.raises((ResponseError, APIConnectionError)):
                await client.environments.retrieve(env.id)

    asyncio.run(scenario())


# --- 5. Retry-After of any shape -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["²", "-5", "1e9", "soon", "", "Fri, 31 Dec 9999 23:59:59 GMT", "86400", "9" * 5000, "1.5"],
)
def test_no_retry_after_makes_the_client_crash_or_sleep_long(client, proxy, upstream, value):
    proxy.inject("retry-after", times=4, method="GET", value=value)
    started = time.monotonic()
    with pytest.raises(APIError) as caught:
        client.environments.list()
    assert time.monotonic() - started < 2.0
    assert isinstance(caught.value, ServerError)
    assert len([r for r in upstream.requests if r.method == "GET"]) in (1, 4)

"""The emulator's building blocks where HTTP cannot reach: id ordering under pressure and across a
restart, and the 24-hour life of an idempotency record. Real objects, no mocks."""

from __future__ import annotations

import time

from qoder_jupyter.emulator.ids import IdClock, format_timestamp, is_environment_id
from qoder_jupyter.emulator.store import IDEMPOTENCY_TTL_SECONDS, RecordedResponse, Store


def test_ids_strictly_increase_even_within_one_millisecond() -> None:
    clock = IdClock()

    ids = [clock.new_id()[0] for _ in range(10_000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_environment_id(env_id) for env_id in ids)


def test_ids_continue_after_a_stored_id_from_the_future() -> None:
    # A restart with --db on a machine whose clock went back must still sort new ids last.
    future = IdClock(floor_micros=(time.time_ns() // 1000) + 3_600_000_000)
    latest_id, latest_time = future.new_id()

    clock = IdClock(floor_micros=latest_time, floor_id=latest_id)
    env_id, created = clock.new_id()

    assert env_id > latest_id
    assert created >= latest_time


def test_timestamps_are_rfc3339_utc_with_microseconds() -> None:
    assert format_timestamp(1_779_118_087_017_808) == "2026-05-18T15:28:07.017808Z"


def test_idempotency_records_last_24_hours() -> None:
    store = Store()
    recorded = RecordedResponse("fingerprint", 201, b"{}")
    store.remember("scope", "key", recorded, now=1000.0)

    assert store.recall("scope", "key", now=1000.0 + IDEMPOTENCY_TTL_SECONDS - 1) == recorded
    assert store.recall("scope", "key", now=1000.0 + IDEMPOTENCY_TTL_SECONDS) is None
    assert store.recall("other scope", "key", now=1000.0) is None
    store.close()

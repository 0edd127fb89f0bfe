"""Pending: a task on one loop, awaited, queried and cancelled from other threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from qoder_jupyter._main_loop import Pending, start


class LoopThread:
    """An asyncio loop running on its own thread, like a kernel's shell loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture
def home():
    loop_thread = LoopThread()
    yield loop_thread.loop
    loop_thread.close()


def test_the_result_is_given_to_another_thread(home):
    async def work() -> int:
        return 42

    pending: Pending[int] = start(work, home)
    assert pending.result(timeout=10) == 42
    assert pending.done()
    assert not pending.cancelled()


def test_the_exception_reaches_another_thread(home):
    async def work() -> int:
        raise ValueError("boom")

    pending: Pending[int] = start(work, home)
    with pytest.raises(ValueError, match="boom"):
        pending.result(timeout=10)


def test_work_runs_on_the_home_loop_even_when_started_from_another_loop(home):
    seen: list[asyncio.AbstractEventLoop] = []

    async def work() -> None:
        seen.append(asyncio.get_running_loop())

    async def from_a_subshell() -> Pending[None]:
        return start(work, home)

    pending = asyncio.run(from_a_subshell())
    pending.result(timeout=10)
    assert seen == [home]


def test_cancel_from_another_thread_runs_the_cancellation_inside_the_body(home):
    started = threading.Event()
    body_saw_cancel = threading.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            body_saw_cancel.set()
            raise

    pending: Pending[None] = start(work, home)
    assert started.wait(10)
    assert pending.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        pending.result(timeout=10)
    assert pending.cancelled()
    assert body_saw_cancel.is_set()
    assert not pending.cancel()  # ended already


def test_awaiting_from_another_loop_gets_the_result(home):
    async def work() -> str:
        return "done"

    pending: Pending[str] = start(work, home)

    async def cell() -> str:
        return await pending

    assert asyncio.run(cell()) == "done"


def test_result_on_its_own_loop_says_to_await_instead():
    async def cell() -> None:
        gate = asyncio.Event()

        async def work() -> None:
            await gate.wait()

        pending: Pending[None] = start(work, None)
        with pytest.raises(RuntimeError, match="await pending"):
            pending.result()
        gate.set()
        await pending

    asyncio.run(cell())


def test_starting_without_any_running_loop_says_where_to_run():
    async def work() -> None:
        return None

    with pytest.raises(RuntimeError, match="Jupyter kernel"):
        start(work, None)

"""Work a widget callback starts, run on the event loop of the shell that built the widget.

In ipykernel 7 a frontend may send a widget's messages to a kernel *subshell*: the callback then
runs on that subshell's thread, whose event loop is not the one cells run on. A task started there
cannot be awaited from a cell ("attached to a different loop"), and cancelling it from a cell
crosses threads. So the loop is captured where the widget is built (a cell runs on the shell's
loop), the work is started on it from whatever thread the callback runs on, and cells get a
:class:`Pending`: awaitable on any loop, and safe to query or cancel from any thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Pending", "running_loop", "start"]

T = TypeVar("T")


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running on this thread (a cell's, in a kernel), or None (a plain script)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def start(
    make: Callable[[], Coroutine[Any, Any, T]], home: asyncio.AbstractEventLoop | None
) -> Pending[T]:
    """Run ``make()`` as a task on ``home`` when it is running (from any thread), else on this
    thread's running loop; raise :class:`RuntimeError` when there is neither. ``make`` is called on
    the chosen loop, so nothing is created that could be left un-awaited."""
    loop = home if home is not None and home.is_running() else running_loop()
    if loop is None:
        raise RuntimeError(
            "no event loop is running here: run the form in a Jupyter kernel, or click from "
            "inside one (e.g. a cell that awaits)"
        )
    pending: Pending[T] = Pending(loop)
    if running_loop() is loop:
        pending._begin(make)
    else:
        loop.call_soon_threadsafe(pending._begin, make)
    return pending


class Pending(Generic[T]):
    """A task on one event loop, seen from anywhere: ``await pending`` in a cell (on any loop),
    ``done()``, ``result(timeout)`` from another thread, ``cancel()`` from any thread.

    Awaiting only waits: a cell interrupted while awaiting leaves the task running; ``cancel()``
    is what stops it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._task: asyncio.Task[T] | None = None  # set on the loop, by _begin

    def _begin(self, make: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self._task = self._loop.create_task(make())
        self._task.add_done_callback(self._settle)

    def _settle(self, task: asyncio.Task[T]) -> None:
        if task.cancelled():
            self._future.cancel()
        elif (error := task.exception()) is not None:
            self._future.set_exception(error)
        else:
            self._future.set_result(task.result())

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the task runs on: in a kernel, the one its cells run on."""
        return self._loop

    def done(self) -> bool:
        return self._future.done()

    def cancelled(self) -> bool:
        return self._future.cancelled()

    def result(self, timeout: float | None = None) -> T:
        """Wait (from another thread) for the result; raises what the task raised."""
        self._not_on_the_loop("result")
        return self._future.result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._not_on_the_loop("exception")
        return self._future.exception(timeout)

    def cancel(self) -> bool:
        """Ask the task to stop (from any thread); False when it has ended already. It ends once
        it has handled the cancellation: ``await`` it to see that."""
        if self.done():
            return False
        try:
            self._loop.call_soon_threadsafe(self._cancel_on_loop)
        except RuntimeError:  # the loop is closed: nothing runs on it any more
            return False
        return True

    def _cancel_on_loop(self) -> None:
        # A step later, not now: a task cancelled before its first step never runs its body, so
        # it could not say it was cancelled. Its first step is queued already (by _begin, which
        # always runs before this), so this cancel lands inside the body.
        task = self._task
        if task is not None:
            self._loop.call_soon(task.cancel)

    def __await__(self) -> Generator[Any, None, T]:
        waiter = asyncio.wrap_future(self._future)
        return asyncio.shield(waiter).__await__()

    def _not_on_the_loop(self, method: str) -> None:
        if not self.done() and running_loop() is self._loop:
            raise RuntimeError(
                f"pending.{method}() would block the event loop that runs the request, so it "
                "could never finish: use `await pending` in a cell instead."
            )

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled() else "done" if self.done() else "running"
        return f"<Pending {state}>"

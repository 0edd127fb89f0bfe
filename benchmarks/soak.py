"""``make soak``: creates and listings under 30 % hostile faults and an emulator killed mid-run,
then a count of what was lost, duplicated, hung or leaked.

The emulator runs as a process of its own on an SQLite file (``--db``) and fails that share of
requests with every kind of fault it has (``qoder_jupyter.emulator.FAULT_KINDS``): server errors
before and after acting, connection resets after acting, and what proxies and half-broken services
do: an answer that drips a byte at a time, a lying ``Content-Encoding``, a body that never ends,
broken chunking, bytes that are not UTF-8, JSON nested 100,000 deep, the token echoed back in
bodies, headers and reason phrases, and (on listings, so on the look-ups that reconcile an
ambiguous create) a cursor that repeats. A :class:`Client` (in a thread, in the default workspace)
and an :class:`AsyncClient` (16 at a time, in workspace ``ws_soak``) each create uniquely named
environments, with a short ``attempt_timeout`` so that a drip costs seconds, not minutes. Once half
of them have finished, the emulator is killed with SIGKILL and started again on the same file and
port, while the clients keep creating. Then each client lists everything a few times, still under
faults.

Afterwards the emulator is restarted once more without faults, and every name is classified
against what the server stored in its client's workspace:

- created: the client returned the environment, and the server has exactly that one;
- failed cleanly: the client raised a definite error, and the server has none;
- outcome unknown: the client raised ``OutcomeUnknownError``; these are then retried with the
  idempotency key the error carries, which must create each of them exactly once;
- lost: anything else (reported created but missing, reported failed but present, or no answer
  at all): must be 0;
- duplicates: more than one environment of a name: must be 0.

And three more promises are measured:

- hangs: every call (create or whole listing) is timed; none may take longer than its bound,
  :meth:`Limits.create` or :meth:`Limits.listing` (every attempt running into its deadline, plus
  the backoff sleeps between them). A call still running well past it is abandoned and counted;
- listings: each ends with every environment of the workspace exactly once, or a typed
  ``QoderError`` (a repeated cursor must end in ``PaginationError``, never loop);
- the token: it must not appear in any error the clients raised (``str``, ``repr``, attributes,
  chained errors, the formatted traceback) nor in any log record of ``httpx``, ``httpcore`` or
  ``qoder_jupyter``, which are set to DEBUG for the run.

``tests/test_soak.py`` runs a short version of this in the test suite.

    python -m benchmarks.soak [--count N] [--fault-rate R] [--seed S] [--no-restart]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import math
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from qoder_jupyter._core import MAX_RECONCILE_PAGES, RetryPolicy
from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import FAULT_KINDS, EmulatorProcess, emulator_args
from qoder_jupyter.errors import OutcomeUnknownError, QoderError

T = TypeVar("T")
Result = Literal["ok", "failed", "unknown", "crashed", "hung"]
Verdict = Literal["created", "failed cleanly", "outcome unknown", "lost", "duplicate"]
VERDICTS: tuple[Verdict, ...] = (
    "created",
    "failed cleanly",
    "outcome unknown",
    "lost",
    "duplicate",
)
ASYNC_WORKSPACE = "ws_soak"
WATCHED_LOGGERS = ("httpx", "httpcore", "qoder_jupyter")
# Time a call may need beyond its attempts and sleeps: the client's own work between attempts,
# and a 2-core machine running the emulator, 16 async calls and a sync one at once.
SLACK_SECONDS = 3.0
# A call still running this long after its bound is abandoned as hung (it would never end).
HUNG_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class Outcome:
    """What a client reported for one create."""

    result: Result
    env_id: str = ""  # when ok
    idempotency_key: str = ""  # when unknown
    error: str = ""  # the error's class name, when it raised


def outcome_of(error: BaseException | None, env_id: str = "") -> Outcome:
    """Classify a create: it returned, it failed for sure, or the client could not tell."""
    if error is None:
        return Outcome("ok", env_id=env_id)
    if isinstance(error, OutcomeUnknownError):
        return Outcome(
            "unknown", idempotency_key=error.idempotency_key, error="OutcomeUnknownError"
        )
    if isinstance(error, QoderError):
        return Outcome("failed", error=type(error).__name__)
    return Outcome("crashed", error=f"{type(error).__name__}: {error}")  # a bug in the client


def verdict(outcome: Outcome | None, stored_ids: Sequence[str]) -> Verdict:
    """One name's verdict, from what the client said and the ids stored under that name."""
    if len(stored_ids) > 1:
        return "duplicate"
    if outcome is not None and outcome.result == "unknown":
        return "outcome unknown"
    if outcome is not None and outcome.result == "ok" and list(stored_ids) == [outcome.env_id]:
        return "created"
    if outcome is not None and outcome.result == "failed" and not stored_ids:
        return "failed cleanly"
    return "lost"  # no outcome at all, a crash, a hang, or the client and the server disagree


def tally(
    outcomes: Mapping[str, Outcome | None], stored: Iterable[Mapping[str, Any]]
) -> Counter[Verdict]:
    """Count the verdicts of ``outcomes`` (name -> what the client said) against ``stored`` (the
    environments on the server, as the API returns them)."""
    ids: dict[str, list[str]] = {}
    for environment in stored:
        ids.setdefault(str(environment.get("name")), []).append(str(environment.get("id")))
    return Counter(verdict(outcome, ids.get(name, [])) for name, outcome in outcomes.items())


def body(name: str) -> dict[str, Any]:
    return {"name": name, "config": {"type": "cloud", "packages": {"apt": ["curl"]}}}


# --- the promises beyond the count ---------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The clients' retry settings, and from them the longest a call may take when every attempt
    runs into its ``attempt_timeout``."""

    attempt_timeout: float
    max_retries: int
    backoff: float

    def exchange(self) -> float:
        """One request: ``max_retries + 1`` attempts, and the longest backoff before each retry
        (the soak's 429s say ``Retry-After: 0``)."""
        cap = RetryPolicy().max_backoff
        sleeps = sum(min(cap, self.backoff * 2.0**attempt) for attempt in range(self.max_retries))
        return (self.max_retries + 1) * self.attempt_timeout + sleeps

    def create(self) -> float:
        """The POST, then at most MAX_RECONCILE_PAGES pages of look-up to reconcile it."""
        return (1 + MAX_RECONCILE_PAGES) * self.exchange() + SLACK_SECONDS

    def listing(self, pages: int) -> float:
        return pages * self.exchange() + SLACK_SECONDS


def leak_places(error: BaseException, token: str) -> list[str]:
    """Where ``token`` shows in ``error``: its text, its repr, its attributes, the errors chained
    to it, and its formatted traceback. Empty when it shows nowhere."""
    places = []
    for link in _chain(error):
        kind = type(link).__name__
        if token in str(link):
            places.append(f"str({kind})")
        if token in repr(link):
            places.append(f"repr({kind})")
        for name, value in vars(link).items():
            if _holds(value, token):
                places.append(f"{kind}.{name}")
    if token in "".join(traceback.format_exception(error)):
        places.append("traceback")
    return places


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        pending += [link.__cause__, link.__context__]


def _holds(value: object, token: str) -> bool:
    if isinstance(value, str):
        return token in value
    if isinstance(value, bytes | bytearray):
        return token.encode() in value
    return token in repr(value)


class LogWatch(logging.Handler):
    """Counts the log records of the run, and those in which the token shows."""

    def __init__(self, token: str) -> None:
        super().__init__(logging.DEBUG)
        self.token = token
        self.records = 0
        self.leaks: Counter[str] = Counter()
        self._lock_count = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format: look at its parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        with self._lock_count:
            self.records += 1
            if self.token in text:
                self.leaks[record.name] += 1


@contextlib.contextmanager
def watching_logs(token: str) -> Iterator[LogWatch]:
    """Every record of WATCHED_LOGGERS, from DEBUG up, into a :class:`LogWatch` on the root."""
    watch = LogWatch(token)
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    levels = [logger.level for logger in loggers]
    root = logging.getLogger()
    root.addHandler(watch)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# --- the run -------------------------------------------------------------------------------------


@dataclass
class ListReport:
    """How the listings of one client ended: "complete", "incomplete" (it returned, but not every
    environment exactly once), the class of a typed error, "crashed: ..." or "hung"."""

    results: list[str] = field(default_factory=list)
    ids: list[list[str]] = field(default_factory=list)  # of each complete or incomplete one
    seconds: list[float] = field(default_factory=list)

    def add(self, result: str, seconds: float, ids: list[str] | None = None) -> None:
        self.results.append(result)
        self.seconds.append(seconds)
        if ids is not None:
            self.ids.append(ids)


@dataclass
class ClientReport:
    label: str
    outcomes: dict[str, Outcome | None]
    workspace: str | None = None
    seconds: float = 0.0
    first: Counter[Verdict] = field(default_factory=Counter)  # before unknowns are retried
    final: Counter[Verdict] = field(default_factory=Counter)  # after
    errors: Counter[str] = field(default_factory=Counter)
    durations: dict[str, float] = field(default_factory=dict)  # of each create
    leaks: list[str] = field(default_factory=list)  # "name: where", for errors showing the token
    raised: int = 0  # errors checked for the token
    lists: ListReport = field(default_factory=ListReport)
    said_first: dict[str, Outcome | None] = field(default_factory=dict)  # before the retries


@dataclass
class SoakReport:
    count: int
    fault_rate: float
    restarted_after: int | None  # finished creates when the emulator was killed
    clients: list[ClientReport]
    stored: int  # environments named soak-* on the server at the end
    seconds: float
    in_flight: tuple[str, ...] = ()  # creates under way when the emulator was killed
    downtime: float = 0.0  # seconds from the kill until the restarted emulator listened
    limits: Limits | None = None
    create_bound: float = math.inf
    list_bound: float = math.inf
    log_records: int = 0
    log_leaks: Counter[str] = field(default_factory=Counter)

    @property
    def in_flight_verdicts(self) -> Counter[Verdict]:
        """How the creates under way at the kill ended (before unknowns were retried)."""
        counts: Counter[Verdict] = Counter()
        for client in self.clients:
            said = client.said_first or client.outcomes
            names = [name for name in self.in_flight if name in said]
            stored = self._first_stored.get(client.workspace, ())
            counts += tally({name: said[name] for name in names}, stored)
        return counts

    _first_stored: Mapping[str | None, Sequence[dict[str, Any]]] = field(default_factory=dict)

    @property
    def lost(self) -> list[str]:
        """Each name lost or duplicated (before the retries): what the client said, and the ids
        stored under that name."""
        details = []
        for client in self.clients:
            ids: dict[str, list[str]] = {}
            for env in self._first_stored.get(client.workspace, ()):
                ids.setdefault(str(env.get("name")), []).append(str(env.get("id")))
            for name, said in (client.said_first or client.outcomes).items():
                if verdict(said, ids.get(name, [])) in ("lost", "duplicate"):
                    details.append(f"{name}: the client said {said}; stored {ids.get(name, [])}")
        return details

    @property
    def first(self) -> Counter[Verdict]:
        return sum((client.first for client in self.clients), Counter())

    @property
    def final(self) -> Counter[Verdict]:
        return sum((client.final for client in self.clients), Counter())

    @property
    def crashed(self) -> list[str]:
        return [
            f"{name}: {outcome.error}"
            for client in self.clients
            for name, outcome in client.outcomes.items()
            if outcome is not None and outcome.result == "crashed"
        ]

    @property
    def hangs(self) -> list[str]:
        """Calls that took longer than their bound, or never ended."""
        slow = [
            f"create {name}: {seconds:.1f} s"
            for client in self.clients
            for name, seconds in client.durations.items()
            if seconds > self.create_bound
        ]
        hung = [
            f"create {name}: never ended"
            for client in self.clients
            for name, outcome in client.outcomes.items()
            if outcome is not None and outcome.result == "hung"
        ]
        listings = [
            f"{client.label} listing: {seconds:.1f} s ({result})"
            for client in self.clients
            for result, seconds in zip(client.lists.results, client.lists.seconds, strict=True)
            if seconds > self.list_bound or result == "hung"
        ]
        return slow + hung + listings

    @property
    def longest_create(self) -> float:
        return max((s for c in self.clients for s in c.durations.values()), default=0.0)

    @property
    def longest_listing(self) -> float:
        return max((s for c in self.clients for s in c.lists.seconds), default=0.0)

    @property
    def bad_listings(self) -> list[str]:
        return [
            f"{client.label}: {result}"
            for client in self.clients
            for result in client.lists.results
            if result in ("incomplete", "hung") or result.startswith("crashed")
        ]

    @property
    def token_leaks(self) -> list[str]:
        errors = [leak for client in self.clients for leak in client.leaks]
        logs = [f"log records of {name}: {n}" for name, n in self.log_leaks.items()]
        return errors + logs

    @property
    def ok(self) -> bool:
        bad: tuple[Verdict, ...] = ("lost", "duplicate")
        return (
            not any(self.first[v] or self.final[v] for v in bad)
            and not self.crashed
            and not self.hangs
            and not self.bad_listings
            and not self.token_leaks
        )


class _Progress:
    """Creates under way and finished, across both clients; wakes the restarter at the mark."""

    def __init__(self, mark: int | None) -> None:
        self.done = 0
        self._under_way: set[str] = set()
        self._mark = mark
        self._lock = threading.Lock()
        self.reached = threading.Event()

    def begin(self, name: str) -> None:
        with self._lock:
            self._under_way.add(name)

    def end(self, name: str) -> None:
        with self._lock:
            self._under_way.discard(name)
            self.done += 1
            if self._mark is not None and self.done >= self._mark:
                self.reached.set()

    def under_way(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._under_way))


class _Hung(Exception):
    """A call that did not end within its bound and HUNG_AFTER_SECONDS more."""


def _watched(call: Callable[[], T], limit: float) -> T:
    """Run a blocking ``call`` in a thread of its own, waiting at most ``limit`` seconds: _Hung
    when it has not ended by then (the thread is abandoned, as a user would abandon the cell)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as error:  # handed to the caller as is
            box["error"] = error

    thread = threading.Thread(target=run, name="soak-call", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        raise _Hung
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


async def _within(call: Awaitable[T], limit: float) -> T:
    """Await ``call`` for at most ``limit`` seconds: _Hung when it has not ended by then (a
    TimeoutError of the call's own stays what it is)."""
    task = asyncio.ensure_future(call)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        raise _Hung
    return task.result()


def _record_create(
    report: ClientReport, name: str, token: str, started: float, result: Any
) -> None:
    """File one create's outcome, duration and (for an error) where the token shows in it."""
    report.durations[name] = time.perf_counter() - started
    if isinstance(result, _Hung):
        report.outcomes[name] = Outcome("hung")
        return
    if isinstance(result, BaseException):
        report.raised += 1
        report.leaks += [f"{name}: {place}" for place in leak_places(result, token)]
        report.outcomes[name] = outcome_of(result)
    else:
        report.outcomes[name] = outcome_of(None, result.id)


def _sync_creates(
    emulator: EmulatorProcess,
    report: ClientReport,
    options: dict[str, Any],
    progress: _Progress,
    limit: float,
) -> None:
    started = time.perf_counter()
    names = list(report.outcomes)
    with Client(base_url=emulator.base_url, token=emulator.token, **options) as client:
        for index, name in enumerate(names):
            progress.begin(name)
            began = time.perf_counter()
            result: Any
            try:
                result = _watched(functools.partial(client.environments.create, body(name)), limit)
            except Exception as error:  # _Hung, or what the client raised
                result = error
            _record_create(report, name, emulator.token, began, result)
            progress.end(name)
            if isinstance(result, _Hung):  # the client is still busy: ask nothing more of it
                for never_asked in names[index + 1 :]:
                    del report.outcomes[never_asked]
                break
        report.seconds = time.perf_counter() - started


async def _async_creates(
    emulator: EmulatorProcess,
    report: ClientReport,
    options: dict[str, Any],
    progress: _Progress,
    concurrency: int,
    limit: float,
) -> None:
    started = time.perf_counter()
    names = iter(list(report.outcomes))
    async with AsyncClient(
        base_url=emulator.base_url, token=emulator.token, workspace=report.workspace, **options
    ) as client:

        async def worker() -> None:
            for name in names:
                progress.begin(name)
                began = time.perf_counter()
                result: Any
                try:
                    result = await _within(client.environments.create(body(name)), limit)
                except Exception as error:  # _Hung, or what the client raised
                    result = error
                _record_create(report, name, emulator.token, began, result)
                progress.end(name)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    report.seconds = time.perf_counter() - started


def _listing_result(error: BaseException | None) -> str:
    if error is None:
        return "complete"
    if isinstance(error, QoderError):
        return type(error).__name__
    return f"crashed: {type(error).__name__}: {error}"


def _file_listing(
    report: ClientReport, token: str, began: float, ids: list[str] | None, error: Any
) -> None:
    seconds = time.perf_counter() - began
    if isinstance(error, _Hung):
        report.lists.add("hung", seconds)
        return
    if error is not None:
        report.raised += 1
        report.leaks += [f"listing: {place}" for place in leak_places(error, token)]
    report.lists.add(_listing_result(error), seconds, ids if error is None else None)


def _sync_listings(
    emulator: EmulatorProcess,
    report: ClientReport,
    options: dict[str, Any],
    times: int,
    limit: float,
) -> None:
    with Client(base_url=emulator.base_url, token=emulator.token, **options) as client:
        for _ in range(times):
            began = time.perf_counter()
            try:
                ids = _watched(lambda: [env.id for env in client.environments.list_all()], limit)
            except Exception as error:  # _Hung, or what the client raised
                _file_listing(report, emulator.token, began, None, error)
                if isinstance(error, _Hung):
                    return
            else:
                _file_listing(report, emulator.token, began, ids, None)


async def _async_listings(
    emulator: EmulatorProcess,
    report: ClientReport,
    options: dict[str, Any],
    times: int,
    limit: float,
) -> None:
    async with AsyncClient(
        base_url=emulator.base_url, token=emulator.token, workspace=report.workspace, **options
    ) as client:

        async def listing() -> list[str]:
            return [env.id async for env in client.environments.list_all()]

        for _ in range(times):
            began = time.perf_counter()
            try:
                ids = await _within(listing(), limit)
            except Exception as error:  # _Hung, or what the client raised
                _file_listing(report, emulator.token, began, None, error)
            else:
                _file_listing(report, emulator.token, began, ids, None)


def _stored(emulator: EmulatorProcess, workspace: str | None) -> list[dict[str, Any]]:
    with Client(base_url=emulator.base_url, token=emulator.token, workspace=workspace) as client:
        return [env.to_dict() for env in client.environments.list_all(include_archived=True)]


def _retry_unknown(emulator: EmulatorProcess, reports: Sequence[ClientReport]) -> None:
    """Retry each outcome-unknown create with its own idempotency key (the documented recovery)."""
    for report in reports:
        with Client(
            base_url=emulator.base_url, token=emulator.token, workspace=report.workspace
        ) as client:
            for name, outcome in report.outcomes.items():
                if outcome is not None and outcome.result == "unknown":
                    key = outcome.idempotency_key
                    env = client.environments.create(body(name), idempotency_key=key)
                    report.outcomes[name] = outcome_of(None, env.id)


def _check_listings(report: ClientReport, stored: Sequence[Mapping[str, Any]]) -> None:
    """A listing that returned must hold every environment of its workspace exactly once (the
    creates were over, so the set no longer changed)."""
    expected = sorted(str(env["id"]) for env in stored)
    returned = iter(report.lists.ids)
    for index, result in enumerate(report.lists.results):
        if result == "complete" and sorted(next(returned)) != expected:
            report.lists.results[index] = "incomplete"


def run_soak(
    *,
    count: int = 500,
    fault_rate: float = 0.3,
    seed: int = 1,
    concurrency: int = 16,
    restart: bool = True,
    workdir: str | Path | None = None,
    max_retries: int = 5,
    backoff: float = 0.05,
    attempt_timeout: float = 2.0,
    drip_interval: float = 0.1,
    max_response_bytes: int | None = None,
    listings: int = 3,
) -> SoakReport:
    """``count`` creates by each client under faults (and a kill and restart of the emulator at
    half-way, unless ``restart`` is false), then ``listings`` listings each; see the module
    docstring. ``max_response_bytes`` None leaves the client's default."""
    started = time.perf_counter()
    limits = Limits(attempt_timeout, max_retries, backoff)
    hung_after = limits.create() + HUNG_AFTER_SECONDS
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        db = str(Path(folder) / "soak.sqlite3")
        faulty = emulator_args(
            db=db,
            fault_rate=fault_rate,
            fault_kinds=FAULT_KINDS,
            seed=seed,
            retry_after=0,
            drip_interval=drip_interval,
        )
        reports = [
            ClientReport("Client", dict.fromkeys((f"soak-sync-{i}" for i in range(count)), None)),
            ClientReport(
                f"AsyncClient ({concurrency} at a time, workspace {ASYNC_WORKSPACE})",
                dict.fromkeys((f"soak-async-{i}" for i in range(count)), None),
                workspace=ASYNC_WORKSPACE,
            ),
        ]
        mark = count if restart else None  # half of all the creates
        progress = _Progress(mark)
        options: dict[str, Any] = {
            "max_retries": max_retries,
            "backoff": backoff,
            "seed": seed,
            "attempt_timeout": attempt_timeout,
        }
        if max_response_bytes is not None:
            options["max_response_bytes"] = max_response_bytes
        restarted_after: int | None = None
        in_flight: tuple[str, ...] = ()
        downtime = 0.0
        with EmulatorProcess(*faulty) as emulator, watching_logs(emulator.token) as logs:
            sync = threading.Thread(
                target=_sync_creates, args=(emulator, reports[0], options, progress, hung_after)
            )
            sync.start()

            def restarter() -> None:
                nonlocal restarted_after, in_flight, downtime
                progress.reached.wait()
                restarted_after, in_flight = progress.done, progress.under_way()
                killed = time.perf_counter()
                emulator.restart(signal.SIGKILL)
                downtime = time.perf_counter() - killed

            killer = threading.Thread(target=restarter, daemon=True)
            if restart:
                killer.start()
            asyncio.run(
                _async_creates(emulator, reports[1], options, progress, concurrency, hung_after)
            )
            sync.join()
            progress.reached.set()  # even if hangs kept the creates from reaching the mark
            if restart:
                killer.join()
            # Listings under the same faults: everything, page after page (100 a page).
            pages = math.ceil(count / 100) + 1
            list_limit = limits.listing(pages) + HUNG_AFTER_SECONDS
            _sync_listings(emulator, reports[0], options, listings, list_limit)
            asyncio.run(_async_listings(emulator, reports[1], options, listings, list_limit))
            # Count on a fault-free restart of the same database.
            emulator.args = emulator_args(db=db)
            emulator.restart(signal.SIGTERM)
            first_stored = {
                report.workspace: _stored(emulator, report.workspace) for report in reports
            }
            for report in reports:
                report.first = tally(report.outcomes, first_stored[report.workspace])
                report.errors = Counter(
                    o.error for o in report.outcomes.values() if o is not None and o.error
                )
                _check_listings(report, first_stored[report.workspace])
                report.said_first = dict(report.outcomes)
            _retry_unknown(emulator, reports)
            stored = {report.workspace: _stored(emulator, report.workspace) for report in reports}
            for report in reports:
                report.final = tally(report.outcomes, stored[report.workspace])
    soak_names = sum(
        1
        for envs in stored.values()
        for env in envs
        if str(env.get("name", "")).startswith("soak-")
    )
    return SoakReport(
        count,
        fault_rate,
        restarted_after,
        reports,
        soak_names,
        time.perf_counter() - started,
        in_flight=in_flight,
        downtime=downtime,
        limits=limits,
        create_bound=limits.create(),
        list_bound=limits.listing(pages),
        log_records=logs.records,
        log_leaks=logs.leaks,
        _first_stored=first_stored,
    )


# --- the table -----------------------------------------------------------------------------------


def _table(report: SoakReport) -> list[str]:
    titles = ["client", "asked", *VERDICTS, "time"]
    rows = [titles]
    for client in report.clients:
        rows.append(
            [
                client.label,
                str(len(client.outcomes)),
                *(str(client.first[v]) for v in VERDICTS),
                f"{client.seconds:.1f} s",
            ]
        )
    first = report.first
    rows.append(
        [
            "total",
            str(sum(len(client.outcomes) for client in report.clients)),
            *(str(first[v]) for v in VERDICTS),
            f"{report.seconds:.1f} s (whole soak)",
        ]
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(titles))]
    rule = "  ".join("-" * w for w in widths)
    lines = [rule]
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index in (0, len(rows) - 2):
            lines.append(rule)
    lines.append(rule)
    return lines


def _promises(report: SoakReport) -> list[str]:
    """The lines on hangs, listings and the token."""
    lines = []
    if report.limits is not None:
        limits = report.limits
        lines.append(
            f"Hangs: {len(report.hangs)}. Longest create {report.longest_create:.1f} s, bound "
            f"{report.create_bound:.1f} s ({1 + MAX_RECONCILE_PAGES} requests x "
            f"{limits.exchange():.1f} s: {limits.max_retries + 1} attempts of "
            f"attempt_timeout={limits.attempt_timeout:g} s and their backoff, + "
            f"{SLACK_SECONDS:g} s); longest listing {report.longest_listing:.1f} s, bound "
            f"{report.list_bound:.1f} s."
        )
    results = Counter(result for client in report.clients for result in client.lists.results)
    if results:
        lines.append(
            "Listings of everything under the same faults: "
            + ", ".join(f"{result} {n}" for result, n in results.most_common())
            + " (each either complete, or a typed error)."
        )
    raised = sum(client.raised for client in report.clients)
    lines.append(
        f"Token: shown by {len(report.token_leaks)} of {raised} errors raised (str, repr, "
        f"attributes, chained errors, traceback) and of {report.log_records} log records "
        f"({', '.join(WATCHED_LOGGERS)} at DEBUG)."
    )
    return lines


def render(report: SoakReport) -> str:
    kinds = ", ".join(FAULT_KINDS)
    restart = (
        f"killed (SIGKILL) and restarted on its --db after {report.restarted_after} of "
        f"{2 * report.count} creates"
        if report.restarted_after is not None
        else "not restarted"
    )
    lines = [
        f"Fault soak: {report.count} uniquely named creates per client; the emulator (its own "
        f"process, SQLite file) fails {report.fault_rate:.0%} of requests with {kinds}; it was "
        f"{restart}. Counted on a fault-free restart of the same file.",
        *_table(report),
    ]
    if report.restarted_after is not None:
        ended = report.in_flight_verdicts
        lines.append(
            f"At the kill {len(report.in_flight)} creates were under way; the emulator listened "
            f"again {report.downtime:.2f} s later. They ended: "
            + ", ".join(f"{v} {ended[v]}" for v in VERDICTS)
            + "."
        )
    final = report.final
    unknown = report.first["outcome unknown"]
    lines.append(
        f"Outcome unknown, retried with the idempotency key each error carries: {unknown} -> "
        f"{unknown - final['outcome unknown']} returned an environment; afterwards created "
        f"{final['created']}, lost {final['lost']}, duplicates {final['duplicate']}; "
        f"{report.stored} soak environments on the server."
    )
    errors = sum((client.errors for client in report.clients), Counter())
    if errors:
        lines.append(
            "Errors the clients raised: "
            + ", ".join(f"{name} {n}" for name, n in errors.most_common())
        )
    lines += _promises(report)
    lines += [f"LOST: {lost}" for lost in report.lost]
    lines += [f"CRASH (not a QoderError): {crash}" for crash in report.crashed]
    lines += [f"HANG: {hang}" for hang in report.hangs]
    lines += [f"BAD LISTING: {bad}" for bad in report.bad_listings]
    lines += [f"TOKEN SHOWN: {leak}" for leak in report.token_leaks]
    lines.append(
        "Result: "
        + (
            "nothing lost, nothing duplicated, nothing hung, the token never shown."
            if report.ok
            else "FAILED: see lost, duplicate, CRASH, HANG, BAD LISTING or TOKEN SHOWN above."
        )
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--count", type=int, default=500, help="creates per client (default %(default)s)"
    )
    parser.add_argument("--fault-rate", type=float, default=0.3, help="default %(default)s")
    parser.add_argument(
        "--seed", type=int, default=1, help="faults and backoff jitter (default %(default)s)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="of the AsyncClient (default %(default)s)"
    )
    parser.add_argument(
        "--attempt-timeout",
        type=float,
        default=2.0,
        help="the clients' total seconds per attempt (default %(default)s)",
    )
    parser.add_argument(
        "--drip-interval",
        type=float,
        default=0.1,
        help="seconds between two bytes of a drip fault (default %(default)s)",
    )
    parser.add_argument(
        "--listings", type=int, default=3, help="listings of everything per client (default 3)"
    )
    parser.add_argument(
        "--no-restart",
        dest="restart",
        action="store_false",
        help="do not kill the emulator mid-run",
    )
    args = parser.parse_args(argv)
    report = run_soak(
        count=args.count,
        fault_rate=args.fault_rate,
        seed=args.seed,
        concurrency=args.concurrency,
        restart=args.restart,
        attempt_timeout=args.attempt_timeout,
        drip_interval=args.drip_interval,
        listings=args.listings,
    )
    print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

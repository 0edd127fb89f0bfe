"""``make soak``: creates under 30 % injected faults and an emulator killed mid-run, then a count.

The emulator runs as a process of its own on an SQLite file (``--db``) and fails that share of
requests with every kind of fault it has, including failures after the environment was created
(``500-after``) and connections reset after acting (``reset-after``). A :class:`Client` (in a
thread) and an :class:`AsyncClient` (16 at a time) each create uniquely named environments. Once
half of them have finished, the emulator is killed with SIGKILL and started again on the same file
and port, while the clients keep creating.

Afterwards the emulator is restarted once more without faults, and every name is classified
against what the server stored:

- created: the client returned the environment, and the server has exactly that one;
- failed cleanly: the client raised a definite error, and the server has none;
- outcome unknown: the client raised ``OutcomeUnknownError``; these are then retried with the
  idempotency key the error carries, which must create each of them exactly once;
- lost: anything else (reported created but missing, or reported failed but present): must be 0;
- duplicates: more than one environment of a name: must be 0.

``tests/test_soak.py`` runs a short version of this in the test suite.

    python -m benchmarks.soak [--count N] [--fault-rate R] [--seed S] [--no-restart]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import FAULT_KINDS, EmulatorProcess, emulator_args
from qoder_jupyter.errors import OutcomeUnknownError, QoderError

Result = Literal["ok", "failed", "unknown", "crashed"]
Verdict = Literal["created", "failed cleanly", "outcome unknown", "lost", "duplicate"]
VERDICTS: tuple[Verdict, ...] = (
    "created",
    "failed cleanly",
    "outcome unknown",
    "lost",
    "duplicate",
)


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
    return "lost"  # no outcome at all, a crash, or the client and the server disagree


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


# --- the run -------------------------------------------------------------------------------------


@dataclass
class ClientReport:
    label: str
    outcomes: dict[str, Outcome | None]
    seconds: float = 0.0
    first: Counter[Verdict] = field(default_factory=Counter)  # before unknowns are retried
    final: Counter[Verdict] = field(default_factory=Counter)  # after
    errors: Counter[str] = field(default_factory=Counter)


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

    @property
    def in_flight_verdicts(self) -> Counter[Verdict]:
        """How the creates under way at the kill ended (before unknowns were retried)."""
        outcomes = {name: o for client in self.clients for name, o in client.outcomes.items()}
        return tally({name: outcomes[name] for name in self.in_flight}, self._first_stored)

    _first_stored: tuple[dict[str, Any], ...] = ()

    @property
    def first(self) -> Counter[Verdict]:
        return sum((client.first for client in self.clients), Counter())

    @property
    def final(self) -> Counter[Verdict]:
        return sum((client.final for client in self.clients), Counter())

    @property
    def ok(self) -> bool:
        bad: tuple[Verdict, ...] = ("lost", "duplicate")
        return not any(self.first[v] or self.final[v] for v in bad) and not self.crashed

    @property
    def crashed(self) -> list[str]:
        return [
            f"{name}: {outcome.error}"
            for client in self.clients
            for name, outcome in client.outcomes.items()
            if outcome is not None and outcome.result == "crashed"
        ]


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


def _sync_creates(
    emulator: EmulatorProcess, report: ClientReport, options: dict[str, Any], progress: _Progress
) -> None:
    started = time.perf_counter()
    with Client(base_url=emulator.base_url, token=emulator.token, **options) as client:
        for name in report.outcomes:
            progress.begin(name)
            try:
                env = client.environments.create(body(name))
            except Exception as error:
                report.outcomes[name] = outcome_of(error)
            else:
                report.outcomes[name] = outcome_of(None, env.id)
            progress.end(name)
    report.seconds = time.perf_counter() - started


async def _async_creates(
    emulator: EmulatorProcess,
    report: ClientReport,
    options: dict[str, Any],
    progress: _Progress,
    concurrency: int,
) -> None:
    started = time.perf_counter()
    names = iter(list(report.outcomes))
    async with AsyncClient(base_url=emulator.base_url, token=emulator.token, **options) as client:

        async def worker() -> None:
            for name in names:
                progress.begin(name)
                try:
                    env = await client.environments.create(body(name))
                except Exception as error:
                    report.outcomes[name] = outcome_of(error)
                else:
                    report.outcomes[name] = outcome_of(None, env.id)
                progress.end(name)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    report.seconds = time.perf_counter() - started


def _stored(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        return [env.to_dict() for env in client.environments.list_all(include_archived=True)]


def _retry_unknown(emulator: EmulatorProcess, reports: Sequence[ClientReport]) -> None:
    """Retry each outcome-unknown create with its own idempotency key (the documented recovery)."""
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        for report in reports:
            for name, outcome in report.outcomes.items():
                if outcome is not None and outcome.result == "unknown":
                    key = outcome.idempotency_key
                    env = client.environments.create(body(name), idempotency_key=key)
                    report.outcomes[name] = outcome_of(None, env.id)


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
) -> SoakReport:
    """``count`` creates by each client under faults (and a kill and restart of the emulator at
    half-way, unless ``restart`` is false); see the module docstring."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        db = str(Path(folder) / "soak.sqlite3")
        faulty = emulator_args(
            db=db, fault_rate=fault_rate, fault_kinds=FAULT_KINDS, seed=seed, retry_after=0
        )
        reports = [
            ClientReport("Client", dict.fromkeys((f"soak-sync-{i}" for i in range(count)), None)),
            ClientReport(
                f"AsyncClient ({concurrency} at a time)",
                dict.fromkeys((f"soak-async-{i}" for i in range(count)), None),
            ),
        ]
        mark = count if restart else None  # half of all the creates
        progress = _Progress(mark)
        options: dict[str, Any] = {"max_retries": max_retries, "backoff": backoff, "seed": seed}
        restarted_after: int | None = None
        in_flight: tuple[str, ...] = ()
        downtime = 0.0
        with EmulatorProcess(*faulty) as emulator:
            sync = threading.Thread(
                target=_sync_creates, args=(emulator, reports[0], options, progress)
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
            asyncio.run(_async_creates(emulator, reports[1], options, progress, concurrency))
            sync.join()
            if restart:
                killer.join()
            # Count on a fault-free restart of the same database.
            emulator.args = emulator_args(db=db)
            emulator.restart(signal.SIGTERM)
            stored = first_stored = _stored(emulator)
            for report in reports:
                report.first = tally(report.outcomes, stored)
                report.errors = Counter(
                    o.error for o in report.outcomes.values() if o is not None and o.error
                )
            _retry_unknown(emulator, reports)
            stored = _stored(emulator)
            for report in reports:
                report.final = tally(report.outcomes, stored)
    soak_names = sum(1 for env in stored if str(env.get("name", "")).startswith("soak-"))
    return SoakReport(
        count,
        fault_rate,
        restarted_after,
        reports,
        soak_names,
        time.perf_counter() - started,
        in_flight=in_flight,
        downtime=downtime,
        _first_stored=tuple(first_stored),
    )


# --- the table -----------------------------------------------------------------------------------


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
    ]
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
            str(2 * report.count),
            *(str(first[v]) for v in VERDICTS),
            f"{report.seconds:.1f} s (whole soak)",
        ]
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(titles))]
    rule = "  ".join("-" * w for w in widths)
    lines.append(rule)
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
    if report.restarted_after is not None:
        ended = report.in_flight_verdicts
        lines.append(
            f"At the kill {len(report.in_flight)} creates were under way; the emulator listened "
            f"again {report.downtime:.2f} s later. They ended: "
            + ", ".join(f"{v} {ended[v]}" for v in VERDICTS)
            + "."
        )
    final = report.final
    unknown = first["outcome unknown"]
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
    for crash in report.crashed:
        lines.append(f"CRASH (not a QoderError): {crash}")
    lines.append(
        "Result: "
        + (
            "nothing lost, nothing duplicated."
            if report.ok
            else "FAILED: see lost, duplicate or CRASH above."
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
    )
    print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

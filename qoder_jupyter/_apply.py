"""The I/O-free flows of an apply (design principle 8: a re-run is normal): make the environment
of a spec's name equal the spec, writing only what differs.

An apply looks the environment up by name among the unarchived ones. It creates it when there is
none, as a create does (one ``Idempotency-Key``, an ambiguous failure reconciled), updates it when
it differs, sending only what differs, and sends nothing when it already matches. A plan is the
same look-up and comparison without the write. The comparison is the spec's diff
(:meth:`~qoder_jupyter.spec.EnvironmentSpec.diff`): what the service fills in by default is not a
difference, and metadata keys the spec lacks are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._core import (
    MAX_PAGE_SIZE,
    Flow,
    PageWalk,
    RetryPolicy,
    create_environment,
    find_by_name,
    list_environments,
    new_idempotency_key,
    retrieve_environment,
    update_environment,
)
from .diff import SpecDiff, diff_values
from .environment import Environment
from .errors import APIError, ConflictError, OutcomeUnknownError, QoderError
from .plan import Applied, Plan
from .spec import FIELDS, EnvironmentSpec
from .update import EnvironmentUpdate

__all__ = [
    "ListApply",
    "Progress",
    "WritePacer",
    "applicable",
    "apply_environment",
    "index_by_name",
    "plan_environment",
    "update_to_spec",
]

logger = logging.getLogger("qoder_jupyter.client")

#: What an apply may be told about the environments found: by name, the newest unarchived one.
Known = Mapping[str, Environment]


def index_by_name(policy: RetryPolicy) -> Flow[dict[str, Environment]]:
    """Every unarchived environment by name (the newest of a name, as listings are newest first):
    one listing serves all the specs of a list, instead of one look-up each."""
    walk = PageWalk({"limit": str(MAX_PAGE_SIZE)})
    found: dict[str, Environment] = {}
    while True:
        page = yield from list_environments(walk.params, policy)
        for environment in page:
            found.setdefault(environment.name, environment)
        if not walk.advance(page):
            return found


def plan_environment(
    spec: EnvironmentSpec, policy: RetryPolicy, known: Known | None = None
) -> Flow[Applied]:
    """What applying ``spec`` would do, sending no write; ``known``: the environments by name, if
    already listed."""
    spec.validate()
    return (yield from _plan(spec, policy, known))


def _plan(spec: EnvironmentSpec, policy: RetryPolicy, known: Known | None) -> Flow[Applied]:
    live = yield from _live(spec.name, policy, known)
    return _planned(spec, live)


def apply_environment(
    spec: EnvironmentSpec,
    key: str,
    policy: RetryPolicy,
    known: Known | None = None,
    *,
    checked: bool = True,
) -> Flow[Applied]:
    """Make the environment called ``spec.name`` equal ``spec``; ``key`` is the idempotency key
    of the create, if one is needed. ``checked=False``: the spec was validated already."""
    planned = yield from (
        plan_environment(spec, policy, known) if checked else _plan(spec, policy, known)
    )
    if planned.action == "create":
        try:
            created = yield from create_environment(spec.to_body(), key, policy)
        except ConflictError:
            # Created by someone else since the look-up: it is an update (or nothing) now.
            live = yield from _live(spec.name, policy, None)
            if live is None:
                raise
            planned = _planned(spec, live)
        else:
            return _done(planned, created)
    if planned.action == "unchanged":
        return _done(planned, planned.environment)
    assert planned.environment is not None
    assert planned.diff is not None
    updated = yield from update_to_spec(planned.environment, spec, planned.diff, policy)
    return _done(planned, updated)


def applicable(
    spec: EnvironmentSpec | Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> EnvironmentSpec:
    """The spec to apply, from a spec, a request body or spec fields (checked when applied)."""
    if spec is not None and fields:
        raise TypeError("Pass either a spec or keyword fields, not both.")
    if spec is None:
        return EnvironmentSpec(**fields)
    return spec if isinstance(spec, EnvironmentSpec) else EnvironmentSpec.from_body(spec)


#: Told of each spec of a list apply as it ends: (how many have ended, how many in all, it).
Progress = Callable[[int, int, Applied], None]


class ListApply:
    """What the sync and async list applies share: the specs as given, each name once (a second
    spec of one name would undo the first), and the plan they fill in."""

    def __init__(self, specs: Iterable[EnvironmentSpec | Mapping[str, Any]], dry_run: bool) -> None:
        self.dry_run = dry_run
        self.plan = Plan(done=not dry_run)
        self._names: dict[str, int] = {}
        self._items = [self._checked(index, given) for index, given in enumerate(specs)]

    def _checked(
        self, index: int, given: EnvironmentSpec | Mapping[str, Any]
    ) -> Applied | EnvironmentSpec:
        """The spec to apply, or the failed item it is already (invalid, or a name taken)."""
        try:
            spec = applicable(given, {})
            spec.validate()
        except QoderError as error:
            name = given.get("name") if isinstance(given, Mapping) else getattr(given, "name", "")
            return self.failed(str(name or f"#{index + 1}"), error)
        if spec.name in self._names:
            first = self._names[spec.name] + 1
            why = f"spec #{index + 1} has the name of spec #{first}: give each its own name."
            return self.failed(spec.name, why, spec)
        self._names[spec.name] = index
        return spec

    def failed(self, name: str, why: object, spec: EnvironmentSpec | None = None) -> Applied:
        return Applied(
            name,
            "failed",
            spec or EnvironmentSpec(name=name),
            reason=str(why),
            done=not self.dry_run,
        )

    @property
    def total(self) -> int:
        return len(self._items)

    def items(self) -> Iterator[Applied | EnvironmentSpec]:
        return iter(self._items)

    def record(self, applied: Applied, progress: Progress | None) -> None:
        self.plan.items.append(applied)
        if progress is not None:
            progress(len(self.plan), self.total, applied)

    def flow(
        self, spec: EnvironmentSpec, policy: RetryPolicy, known: Mapping[str, Environment]
    ) -> Flow[Applied]:
        if self.dry_run:  # every spec was validated when the list was read
            return _plan(spec, policy, known)
        return apply_environment(spec, new_idempotency_key(), policy, known, checked=False)


def _live(name: str, policy: RetryPolicy, known: Known | None) -> Flow[Environment | None]:
    if known is not None:
        return known.get(name)
    return (yield from find_by_name(name, policy, max_pages=None))


def _planned(spec: EnvironmentSpec, live: Environment | None) -> Applied:
    if live is None:
        diff = diff_values(
            {}, spec.values(), FIELDS, before_label="(nothing)", after_label=_label(spec)
        )
        return Applied(spec.name, "create", spec, diff)
    diff = live.diff(spec)
    return Applied(spec.name, "update" if diff else "unchanged", spec, diff, live)


def _label(spec: EnvironmentSpec) -> str:
    return f"{spec.name} (spec)"


def update_to_spec(
    live: Environment, spec: EnvironmentSpec, diff: SpecDiff, policy: RetryPolicy
) -> Flow[Environment]:
    """Send what differs. An update sets state, so one whose answer was lost is settled by
    reading the environment back: if it now equals the spec, the update happened."""
    changes = EnvironmentUpdate.to_reach(live.to_spec(), spec, diff.traits)
    try:
        return (yield from update_environment(live.id, changes.to_body(), policy))
    except APIError as failure:
        if not failure.may_have_acted or isinstance(failure, OutcomeUnknownError):
            raise
        try:
            now = yield from retrieve_environment(live.id, policy)
        except APIError:
            raise failure from None
        if now.diff(spec):
            raise failure from None
        logger.info("Update of %s was ambiguous; reading it back shows it was made", live.id)
        return now


def _done(applied: Applied, environment: Environment | None) -> Applied:
    applied.environment = environment
    applied.done = True
    return applied


#: The contract's suggested pace for writes (§1: at most 20 a second).
WRITES_PER_SECOND = 20.0


class WritePacer:
    """Spaces the writes of a list apply to :data:`WRITES_PER_SECOND`, and slows down when a
    gateway throttles (each 429 halves the rate, down to one write every 2 s; each write that
    is not throttled brings it back up by a tenth). Reads are not paced: a list apply reads once.
    It only computes: the driver sleeps."""

    SLOWEST = 2.0  # seconds between writes at most

    def __init__(self, rate: float = WRITES_PER_SECOND) -> None:
        self.fastest = 1.0 / rate
        self.interval = self.fastest
        self._next = 0.0

    def delay(self, now: float) -> float:
        """How long to wait before the next write may leave, and book it."""
        wait = max(0.0, self._next - now)
        self._next = now + wait + self.interval
        return wait

    def answered(self, status: int) -> None:
        """Adjust to a write's answer."""
        if status == 429:
            self.interval = min(self.SLOWEST, self.interval * 2)
        else:
            self.interval = max(self.fastest, self.interval * 0.9)

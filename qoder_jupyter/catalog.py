"""The environments a manager shows: what was loaded, searched, sorted and cut into pages.

No widgets and no I/O: the manager loads pages from the service into a :class:`Catalog` and
renders :meth:`Catalog.view`; every rule of what a search matches and how a column sorts is here,
so the tests can check them without a browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .environment import Environment

__all__ = ["COLUMNS", "Catalog", "View", "matches", "package_count"]

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


def package_count(env: Environment) -> int:
    """How many packages it lists, over every manager."""
    return sum(len(specs) for specs in env.packages.values())


#: The sortable columns: key -> (heading, the value it sorts by). Newest first is the default.
COLUMNS: dict[str, tuple[str, Callable[[Environment], Any]]] = {
    "name": ("Name", lambda env: (env.name.casefold(), env.id)),
    "status": ("Status", lambda env: (env.status, env.name.casefold())),
    "networking": ("Networking", lambda env: (env.networking, env.name.casefold())),
    "packages": ("Packages", lambda env: (package_count(env), env.name.casefold())),
    "created": ("Created", lambda env: (env.created_at or _OLDEST, env.id)),
}


def matches(env: Environment, words: Sequence[str]) -> bool:
    """Whether every word (already case-folded) is in its name, id, metadata keys or values, or
    package specs: a search narrows as words are added."""
    haystack = _searchable(env)
    return all(word in haystack for word in words)


def _searchable(env: Environment) -> str:
    metadata = " ".join(f"{key} {value}" for key, value in env.metadata.items())
    packages = " ".join(spec for specs in env.packages.values() for spec in specs)
    return " ".join((env.name, env.id, metadata, packages)).casefold()


@dataclass(frozen=True)
class View:
    """One page of what the catalog shows: its rows, where it is, and how many match."""

    rows: tuple[Environment, ...]
    page: int  # 0-based
    pages: int  # at least 1
    first: int  # 1-based number of the first row shown (0 when there is none)
    matching: int
    loaded: int
    complete: bool  # every environment of the service is loaded

    def summary(self) -> str:
        """ "21 to 40 of 1,000 environments", with what is still loading or filtered out."""
        if not self.matching:
            found = "No environment matches" if self.loaded else "No environments"
        else:
            last = self.first + len(self.rows) - 1
            found = f"{self.first:,} to {last:,} of {self.matching:,}"
            found += " environment" if self.matching == 1 else " environments"
        if self.matching != self.loaded:
            found += f" (of {self.loaded:,} loaded)"
        return found if self.complete else f"{found}; loading more…"


class Catalog:
    """The loaded environments, newest first as the service lists them, and how they are shown:
    a search, a sort, a page size and the current page. Selection is by id, so it survives a
    search, a sort, a reload and a page change."""

    def __init__(self, *, page_size: int = 20) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be 1 or more, not {page_size!r}")
        self.page_size = page_size
        self._environments: dict[str, Environment] = {}  # insertion order: the service's
        self.complete = False
        self.search = ""
        self.sort_key: str | None = None  # None: newest first, as listed
        self.descending = False
        self.page = 0
        self.selected: set[str] = set()

    # --- what is loaded ----------------------------------------------------------------------

    def add(self, environments: Iterable[Environment], *, at_top: bool = False) -> None:
        """Environments from a listing (appended) or just made (``at_top``); one already here
        is replaced in place."""
        fresh = {env.id: env for env in environments}
        if at_top:
            rest = {key: env for key, env in self._environments.items() if key not in fresh}
            self._environments = {**fresh, **rest}
        else:
            self._environments.update(fresh)

    def replace(self, env: Environment) -> None:
        """The new state of one environment (an edit, an archive), where it was."""
        if env.id in self._environments:
            self._environments[env.id] = env

    def remove(self, env_ids: Iterable[str]) -> None:
        for env_id in env_ids:
            self._environments.pop(env_id, None)
            self.selected.discard(env_id)

    def clear(self) -> None:
        """Forget what was loaded (a reload follows); the selection is kept."""
        self._environments = {}
        self.complete = False

    def get(self, env_id: str) -> Environment | None:
        return self._environments.get(env_id)

    def __len__(self) -> int:
        return len(self._environments)

    # --- what is shown -----------------------------------------------------------------------

    def sort_by(self, key: str) -> None:
        """Sort by ``key`` (see :data:`COLUMNS`); the same key again reverses it."""
        if key not in COLUMNS:
            raise ValueError(f"unknown column {key!r}; choose from {', '.join(COLUMNS)}")
        self.descending = not self.descending if self.sort_key == key else False
        self.sort_key = key
        self.page = 0

    def matching(self) -> list[Environment]:
        words = self.search.casefold().split()
        found = [env for env in self._environments.values() if not words or matches(env, words)]
        if self.sort_key is not None:
            found.sort(key=COLUMNS[self.sort_key][1], reverse=self.descending)
        return found

    def view(self) -> View:
        """The current page (moved back to the last one when a search leaves fewer)."""
        found = self.matching()
        pages = max(1, -(-len(found) // self.page_size))
        self.page = min(max(self.page, 0), pages - 1)
        start = self.page * self.page_size
        rows = tuple(found[start : start + self.page_size])
        return View(
            rows=rows,
            page=self.page,
            pages=pages,
            first=start + 1 if rows else 0,
            matching=len(found),
            loaded=len(self._environments),
            complete=self.complete,
        )

    def chosen(self) -> list[Environment]:
        """The selected environments that are loaded: those shown in their order, then those a
        search hides (a selection is not dropped by typing in the search box)."""
        shown = self.matching()
        ids = {env.id for env in shown}
        hidden = [env for env in self._environments.values() if env.id not in ids]
        return [env for env in (*shown, *hidden) if env.id in self.selected]

"""What an import found: the packages taken from a file or the kernel, what was left out and why,
and what is worth knowing about what was taken. Every importer returns a :class:`PackageImport`;
the magics and the form lay its lists over a spec and show it (its rendering is
:mod:`qoder_jupyter.display_report`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Left", "Note", "PackageImport"]


@dataclass(frozen=True)
class Left:
    """An entry left out: ``entry`` as the user wrote it (or as the kernel has it), why it was
    left out, and what to do about it. ``where`` is ``file:line`` when it came from a file."""

    entry: str
    reason: str
    fix: str
    where: str = ""


@dataclass(frozen=True)
class Note:
    """Something taken but worth knowing (a marker that is false in the sandbox, a kernel whose
    Python is not the sandbox's)."""

    message: str
    where: str = ""


@dataclass
class PackageImport:
    """The result of reading one source (or several, :meth:`merged`).

    ``packages`` maps a package list of the spec (``pip``, ``npm``, ``apt``) to the entries taken,
    in the order found, each once."""

    sources: tuple[str, ...]
    packages: dict[str, list[str]] = field(default_factory=dict)
    left_out: list[Left] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many entries were taken, in all lists."""
        return sum(len(entries) for entries in self.packages.values())

    def merged(self, other: PackageImport) -> PackageImport:
        """This import followed by ``other``: lists joined, an entry already taken not repeated."""
        packages = {manager: list(entries) for manager, entries in self.packages.items()}
        for manager, entries in other.packages.items():
            _extend_unique(packages.setdefault(manager, []), entries)
        return PackageImport(
            sources=self.sources + other.sources,
            packages=packages,
            left_out=[*self.left_out, *other.left_out],
            notes=[*self.notes, *other.notes],
        )

    def onto(self, lists: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
        """Package lists (by manager) with these entries added after what they hold."""
        result = {manager: list(entries) for manager, entries in lists.items()}
        for manager, entries in self.packages.items():
            _extend_unique(result.setdefault(manager, []), entries)
        return result

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .. import display_report

        return display_report.import_bundle(self)

    def __str__(self) -> str:
        from .. import display_report

        return display_report.import_text(self)


def _extend_unique(entries: list[str], more: Iterable[str]) -> None:
    for entry in more:
        if entry not in entries:
            entries.append(entry)

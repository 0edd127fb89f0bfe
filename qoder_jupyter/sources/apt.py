"""``apt.txt`` (the repo2docker convention): one Ubuntu package a line, as an apt list.

``#`` starts a comment anywhere on a line (as repo2docker reads the file); blank lines are
skipped; each package is taken once. A line the project's rules refuse (a space, which would
be two packages; a capital letter; a shell character) is left out with the rule's reason.
"""

from __future__ import annotations

from pathlib import Path

from .. import rules
from ._file import read_text
from .report import Left, PackageImport

__all__ = ["read"]


def read(path: Path, name: str) -> PackageImport:
    """The apt entries of an apt.txt."""
    report = PackageImport(sources=(name,))
    taken: list[str] = []
    for number, line in enumerate(read_text(path, name).splitlines(), 1):
        entry = line.partition("#")[0].strip()
        if not entry or entry in taken:
            continue
        problem = rules.package_problem("apt", entry)
        if problem is None:
            taken.append(entry)
        else:
            report.left_out.append(
                Left(
                    entry,
                    problem,
                    "correct the line and import the file again, or add the package to the apt "
                    "list yourself",
                    where=f"{name}:{number}",
                )
            )
    if taken:
        report.packages["apt"] = taken
    return report

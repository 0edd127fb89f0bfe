"""Package lists from what a user already has: their files (requirements, pyproject.toml,
environment.yml, package.json, apt.txt) and the kernel they are running."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

from .files import detect_kind, read_packages
from .kernel import from_kernel
from .report import Left, Note, PackageImport

__all__ = [
    "Left",
    "Note",
    "PackageImport",
    "detect_kind",
    "from_kernel",
    "gather",
    "read_packages",
]


def gather(
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    dev: bool = False,
    kernel: bool = False,
    imported_only: bool = False,
    include_jupyter: bool = False,
) -> PackageImport | None:
    """Every file of ``paths`` (see :func:`read_packages`), then the kernel's packages when
    ``kernel`` (see :func:`from_kernel`), as one import; None when there is nothing to read.
    The first file that cannot be read raises, so nothing is taken from a half-read set."""
    extras, groups = tuple(extras), tuple(groups)
    reports = [read_packages(path, extras=extras, groups=groups, dev=dev) for path in paths]
    if kernel:
        reports.append(from_kernel(imported_only=imported_only, include_jupyter=include_jupyter))
    return functools.reduce(PackageImport.merged, reports) if reports else None

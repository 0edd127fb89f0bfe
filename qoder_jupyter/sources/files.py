"""Packages from the user's own files (``--packages-from FILE``): which kind of file a path is,
told by its name alone, and the reader that kind needs.

- ``*requirements*.txt`` (``requirements-dev.txt``, ``dev-requirements.txt``; and pip-compile's
  ``.in`` files), or any ``.txt`` in a folder named ``requirements``: :mod:`.requirements`;
- ``pyproject.toml``: :mod:`.pyproject`;
- ``environment.yml`` or ``environment.yaml``: :mod:`.conda`;
- ``package.json``: :mod:`.npm`;
- ``apt.txt``: :mod:`.apt`.

``constraints*.txt`` is refused: it limits the versions of packages listed elsewhere and lists
none itself. Every reader returns a :class:`~.report.PackageImport`; what cannot be read (a
missing file, one that is not UTF-8 or does not parse) is a
:class:`~qoder_jupyter.errors.ValidationError` whose message names the file and the line, then
the fix (:mod:`._file`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from ._file import KINDS, file_error, known_names, missing_file, shown
from .report import Note, PackageImport

__all__ = ["KINDS", "detect_kind", "read_packages"]

#: requirements.txt, requirements-dev.txt, dev-requirements.txt, test_requirements.in...
_REQUIREMENTS = re.compile(r".*requirements.*\.(txt|in)", re.IGNORECASE)
_CONSTRAINTS = re.compile(r"constraints.*\.txt", re.IGNORECASE)


def detect_kind(path: str | os.PathLike[str]) -> str:
    """The kind of package file ``path`` is (a key of :data:`KINDS`), from its name alone.

    Raises :class:`~qoder_jupyter.errors.ValidationError` for a constraints file (it lists no
    packages) and for a name that is none of the kinds, listing the names understood."""
    file = Path(path)
    name = file.name.lower()
    if _CONSTRAINTS.fullmatch(name):
        raise file_error(
            shown(path),
            "a constraints file limits the versions of packages listed elsewhere and lists none "
            "itself: import the requirements file it constrains, and pin the versions you need "
            "there.",
        )
    if _REQUIREMENTS.fullmatch(name) or (
        name.endswith(".txt") and file.parent.name.lower() == "requirements"
    ):
        return "requirements"
    kind = {
        "pyproject.toml": "pyproject",
        "environment.yml": "conda",
        "environment.yaml": "conda",
        "package.json": "npm",
        "apt.txt": "apt",
    }.get(name)
    if kind is None:
        raise file_error(
            shown(path),
            f"not a package file this can read (the kind is told by the file name): name one of "
            f"{known_names()}.",
        )
    return kind


def read_packages(
    path: str | os.PathLike[str],
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    dev: bool = False,
) -> PackageImport:
    """The packages of one file, by the reader its name calls for (see :func:`detect_kind`).

    ``extras`` (optional-dependency groups) and ``groups`` (PEP 735 dependency groups) apply to
    a ``pyproject.toml``, ``dev`` (also ``devDependencies``) to a ``package.json``; given with
    another kind of file they are ignored, and the report's notes say so."""
    file, name = Path(path), shown(path)
    if not file.exists():  # said first: a typo is likelier than a file of an unknown kind
        raise missing_file(file, name)
    kind = detect_kind(path)
    extras, groups = tuple(extras), tuple(groups)
    if kind == "requirements":
        from . import requirements

        report = requirements.read(file, name)
    elif kind == "pyproject":
        from . import pyproject

        report = pyproject.read(file, name, extras=extras, groups=groups)
    elif kind == "conda":
        from . import conda

        report = conda.read(file, name)
    elif kind == "npm":
        from . import npm

        report = npm.read(file, name, dev=dev)
    else:
        from . import apt

        report = apt.read(file, name)
    report.notes.extend(_unused_options(kind, name, extras, groups, dev))
    return report


def _unused_options(
    kind: str, name: str, extras: tuple[str, ...], groups: tuple[str, ...], dev: bool
) -> list[Note]:
    unused = []
    if kind != "pyproject":
        unused += [f"--extras {','.join(extras)}"] if extras else []
        unused += [f"--group {' '.join(groups)}"] if groups else []
    if kind != "npm" and dev:
        unused.append("--dev")
    if not unused:
        return []
    applies = "apply to a pyproject.toml (--extras, --group) or a package.json (--dev)"
    return [Note(f"{' and '.join(unused)} changed nothing here: they {applies}.", name)]

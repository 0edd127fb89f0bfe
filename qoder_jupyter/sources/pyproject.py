"""``pyproject.toml``: the requirements a project declares (PEP 621), as a pip list.

Taken: ``[project].dependencies``; then the ``[project.optional-dependencies]`` groups named in
``extras`` (``--extras a,b``); then the PEP 735 ``[dependency-groups]`` named in ``groups``
(``--group dev``), their ``{include-group = "..."}`` entries expanded. Names are compared as
PEP 685/735 normalise them; an unknown one is an error listing the file's own, and an include
cycle is an error. An entry that names the project itself (``attrs[tests]`` in attrs' own file)
is read as its dependencies and those extras (the project itself is not on the sandbox). Each
entry is read as a requirements-file entry is (:class:`.requirements.PipEntries`).

Reported in notes: dependencies declared ``dynamic`` (none to read; where setuptools reads them
from, when it says), a file whose dependencies are only in ``[tool.poetry]`` tables (Poetry's own
format, not read: how to export them), a ``requires-python`` the sandbox's Python does not meet.
TOML is read with :mod:`tomllib` (``tomli`` on Python 3.10).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..rules import json_kind
from ._file import file_error, read_text
from .report import Note, PackageImport
from .requirements import PipEntries
from .sandbox import MARKER_ENVIRONMENT, PYTHON

__all__ = ["read"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_PYTHON = ".".join(map(str, PYTHON))


def read(
    path: Path, name: str, *, extras: Sequence[str] = (), groups: Sequence[str] = ()
) -> PackageImport:
    """The pip entries of ``path``'s dependencies, and of the extras and groups named."""
    text = read_text(path, name)
    data = _toml(text, name)
    report = PackageImport(sources=(name,))
    project = _table(data, "project", name)
    pip = _Project(project, data, name, text, PipEntries(report))
    pip.take_dependencies()
    pip.take_extras(extras)
    pip.take_groups(groups)
    report.notes.extend(pip.notes(extras, groups))
    return report


def _toml(text: str, name: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        except ModuleNotFoundError:
            raise file_error(
                name, "reading TOML on Python 3.10 needs the tomli package: pip install tomli."
            ) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error).strip()
        position = _TOML_POSITION.search(message)
        if position is None:
            raise file_error(name, f"not valid TOML ({message}): correct the file.") from None
        line, column = position.groups()
        what = message[: position.start()]
        raise file_error(
            f"{name}:{line}",
            f"not valid TOML ({what}, column {column}): correct that line and import it again.",
        ) from None
    return data


class _Project:
    """One pyproject.toml being read: its tables, and the pip entries taken from them."""

    def __init__(
        self,
        project: Mapping[str, Any] | None,
        data: Mapping[str, Any],
        name: str,
        text: str,
        pip: PipEntries,
    ) -> None:
        self.project = project
        self.data = data
        self.name = name
        self.pip = pip
        self.lines = text.splitlines()
        self.key = _normalised(str(project.get("name", ""))) if project else ""
        self._extras_taken: set[str] = set()
        self._groups_taken: set[str] = set()  # the groups asked for, and those they include

    # --- the three kinds of list ---

    def take_dependencies(self) -> None:
        if self.project is None:
            return
        entries = self._list(self.project, "dependencies", "[project].dependencies")
        self._take(entries, "project", "dependencies")

    def take_extras(self, extras: Sequence[str]) -> None:
        table = self._optional_dependencies()
        by_key = {_normalised(extra): extra for extra in table}
        unknown = [extra for extra in extras if _normalised(extra) not in by_key]
        if unknown:
            raise file_error(self.name, self._unknown_extras(unknown, list(table)))
        for extra in extras:
            self._take_extra(by_key[_normalised(extra)])

    def take_groups(self, groups: Sequence[str]) -> None:
        table = _table(self.data, "dependency-groups", self.name) or {}
        by_key = _group_keys(table, self.name)
        unknown = [group for group in groups if _normalised(group) not in by_key]
        if unknown:
            listed = ", ".join(map(repr, table)) or "none"
            raise file_error(
                self.name,
                f"no dependency group {_names(unknown)} in [dependency-groups] (PEP 735): name "
                f"one the file has ({listed}).",
            )
        for group in groups:
            for entry, origin in self._group(by_key[_normalised(group)], table, by_key, []):
                self._take([entry], "dependency-groups", origin)

    # --- expanding ---

    def _take_extra(self, extra: str) -> None:
        if extra in self._extras_taken:
            return  # an extra named twice, or a self-reference cycle (a = ["p[b]"], b = ["p[a]"])
        self._extras_taken.add(extra)
        table = self._optional_dependencies()
        entries = self._list(table, extra, f"[project.optional-dependencies].{extra}")
        self._take(entries, "project.optional-dependencies", extra)

    def _group(
        self, group: str, table: Mapping[str, Any], by_key: Mapping[str, str], chain: list[str]
    ) -> Iterator[tuple[str, str]]:
        """The requirement strings of ``group`` (includes expanded), each with the group it is
        written in."""
        if group in chain:
            cycle = " → ".join([*chain, group])
            raise file_error(
                self.name,
                f"[dependency-groups] includes {group!r} within itself ({cycle}): remove one of "
                "these include-group entries.",
            )
        self._groups_taken.add(group)
        entries = table[group]
        if not isinstance(entries, list):
            raise file_error(
                self.name,
                f"[dependency-groups].{group} is {json_kind(entries)}: it must be a list of "
                'requirements and {include-group = "..."} tables (PEP 735).',
            )
        for entry in entries:
            if isinstance(entry, str):
                yield entry, group
            elif isinstance(entry, dict) and set(entry) == {"include-group"}:
                included = entry["include-group"]
                if not isinstance(included, str) or _normalised(included) not in by_key:
                    raise file_error(
                        self.name,
                        f"[dependency-groups].{group} includes {included!r}, which the file does "
                        f"not have: name one of {', '.join(map(repr, table))}.",
                    )
                inner = by_key[_normalised(included)]
                yield from self._group(inner, table, by_key, [*chain, group])
            else:
                raise file_error(
                    self.name,
                    f"[dependency-groups].{group} holds {json_kind(entry)}: an entry is a "
                    'requirement string or an {include-group = "..."} table (PEP 735).',
                )

    def _take(self, entries: Sequence[str], table: str, key: str) -> None:
        for entry in entries:
            where = self._where(entry, table, key)
            extras = self._self_reference(entry)
            if extras is None:
                self.pip.add(entry, where)
                continue
            self.pip.report.notes.append(
                Note(
                    f"{entry.strip()} names this project itself, which the sandbox does not have: "
                    f"its dependencies{_and_extras(extras)} were taken instead.",
                    where,
                )
            )
            for extra in extras:
                self._take_extra(extra)

    def _self_reference(self, entry: str) -> list[str] | None:
        """The extras of an entry naming this project (``attrs[tests]``), or None."""
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            requirement = Requirement(entry)
        except InvalidRequirement:
            return None
        if not self.key or _normalised(requirement.name) != self.key or requirement.url:
            return None
        known = {_normalised(extra): extra for extra in self._optional_dependencies()}
        unknown = [extra for extra in requirement.extras if _normalised(extra) not in known]
        if unknown:
            raise file_error(self.name, self._unknown_extras(unknown, list(known.values())))
        return [known[_normalised(extra)] for extra in sorted(requirement.extras)]

    # --- reading the tables ---

    def _optional_dependencies(self) -> Mapping[str, Any]:
        if self.project is None:
            return {}
        table = self.project.get("optional-dependencies", {})
        if not isinstance(table, dict):
            raise file_error(
                self.name,
                f"[project.optional-dependencies] is {json_kind(table)}: it must be a table of "
                "lists (PEP 621).",
            )
        return table

    def _list(self, table: Mapping[str, Any], key: str, label: str) -> list[str]:
        entries = table.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(each, str) for each in entries):
            raise file_error(
                self.name,
                f"{label} is {json_kind(entries)}: it must be a list of requirement strings "
                "(PEP 621).",
            )
        return entries

    def _unknown_extras(self, unknown: Sequence[str], known: Sequence[str]) -> str:
        dynamic = self.project is not None and "optional-dependencies" in _dynamic(self.project)
        listed = ", ".join(map(repr, known)) or "none"
        why = " (they are dynamic here: the build backend computes them)" if dynamic else ""
        return (
            f"no optional-dependency group {_names(unknown)} in [project.optional-dependencies]"
            f"{why}: name one the file has ({listed})."
        )

    def _where(self, entry: str, table: str, key: str) -> str:
        """``file:line`` of ``entry`` in ``table``'s list ``key``, or the file when not found."""
        line = _line_of(self.lines, entry, table, key)
        return f"{self.name}:{line}" if line else self.name

    # --- what is worth knowing ---

    def notes(self, extras: Sequence[str], groups: Sequence[str]) -> list[Note]:
        if self.project is None:
            return [self._no_project_note()]
        notes = []
        if "dependencies" in _dynamic(self.project):
            notes.append(self._dynamic_note())
        python = self.project.get("requires-python")
        if isinstance(python, str) and not _allows_sandbox_python(python):
            notes.append(
                Note(
                    f"requires-python is {python!r}, which the sandbox's Python {_PYTHON} does "
                    "not meet: the project may not install or run there.",
                    self.name,
                )
            )
        return [*notes, *self._not_taken(extras, groups)]

    def _not_taken(self, extras: Sequence[str], groups: Sequence[str]) -> list[Note]:
        """What else the file offers: the extras and groups not asked for."""
        taken = (*extras, *groups, *self._extras_taken, *self._groups_taken)
        asked = {_normalised(each) for each in taken}
        found = [
            (label, flag, [each for each in table if _normalised(each) not in asked])
            for label, flag, table in (
                ("optional-dependency group", "--extras NAME", self._optional_dependencies()),
                ("dependency group", "--group NAME", _mapping(self.data.get("dependency-groups"))),
            )
        ]
        offered = [
            f"the {label}{'s' if len(names) > 1 else ''} {_names(names)} ({flag})"
            for label, flag, names in found
            if names
        ]
        if not offered:
            return []
        return [Note(f"Not taken, as not asked for: {' and '.join(offered)}.", self.name)]

    def _no_project_note(self) -> Note:
        tool = self.data.get("tool")
        if isinstance(tool, dict) and isinstance(tool.get("poetry"), dict):
            return Note(
                "The dependencies are only in [tool.poetry] tables, Poetry's own format, which "
                "is not read: export them (poetry export --without-hashes -o requirements.txt, "
                "with Poetry's export plugin) and import that file, or declare them in "
                "[project].dependencies (PEP 621).",
                self.name,
            )
        return Note("There is no [project] table: the file declares no dependencies.", self.name)

    def _dynamic_note(self) -> Note:
        files = _setuptools_dependency_files(self.data)
        folder = self.name.replace("\\", "/").rpartition("/")[0]
        if files:
            shown = [f"{folder}/{file}" if folder else file for file in files]
            read = " ".join(shown)
            then = f"setuptools reads them from {', '.join(files)}: import --packages-from {read}"
        else:
            then = "import the file they come from, or the installed project with --from-kernel"
        return Note(
            f"[project] declares its dependencies dynamic: the build backend computes them, so "
            f"none were read here; {then}.",
            self.name,
        )


def _table(data: Mapping[str, Any], key: str, name: str) -> dict[str, Any] | None:
    table = data.get(key)
    if table is None or isinstance(table, dict):
        return table
    raise file_error(name, f"[{key}] is {json_kind(table)}: it must be a table.")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _group_keys(table: Mapping[str, Any], name: str) -> dict[str, str]:
    """The groups by their normalised names; two that normalise alike are an error (PEP 735)."""
    keys: dict[str, str] = {}
    for group in table:
        key = _normalised(group)
        if key in keys:
            raise file_error(
                name,
                f"[dependency-groups] has both {keys[key]!r} and {group!r}, which are the same "
                "name (PEP 735 normalises them alike): merge them.",
            )
        keys[key] = group
    return keys


def _normalised(name: str) -> str:
    """A project, extra or group name as PEP 503, 685 and 735 compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(names: Sequence[str]) -> str:
    return ", ".join(map(repr, names))


def _and_extras(extras: Sequence[str]) -> str:
    if not extras:
        return ""
    return f" and its {'extra' if len(extras) == 1 else 'extras'} {_names(extras)}"


def _dynamic(project: Mapping[str, Any]) -> list[Any]:
    dynamic = project.get("dynamic", [])
    return dynamic if isinstance(dynamic, list) else []


def _allows_sandbox_python(requires: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires).contains(
            MARKER_ENVIRONMENT["python_full_version"], prereleases=True
        )
    except InvalidSpecifier:
        return True  # pip ignores what it cannot read; so does this note


def _setuptools_dependency_files(data: Mapping[str, Any]) -> list[str]:
    """``[tool.setuptools.dynamic] dependencies = {file = ...}``: the files setuptools reads."""
    table: Any = data
    for key in ("tool", "setuptools", "dynamic", "dependencies"):
        table = table.get(key) if isinstance(table, dict) else None
    files = table.get("file") if isinstance(table, dict) else None
    if isinstance(files, str):
        return [files]
    return [each for each in files if isinstance(each, str)] if isinstance(files, list) else []


def _line_of(lines: Sequence[str], entry: str, table: str, key: str) -> int | None:
    """The line (1-based) where ``entry`` is written in ``table``'s list ``key``: after the
    table's header and the key, the first line holding the entry as a TOML string. None when
    the file is written in a way this does not follow (the entry then has no line)."""
    header = re.compile(rf"\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?")
    assignment = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
    literals = (f'"{entry}"', f"'{entry}'")
    start = next((i for i, text in enumerate(lines) if header.fullmatch(text)), None)
    if start is None:
        return None
    key_line = next((i for i in range(start + 1, len(lines)) if assignment.match(lines[i])), None)
    if key_line is None:
        return None
    return next(
        (i + 1 for i in range(key_line, len(lines)) if any(s in lines[i] for s in literals)),
        None,
    )

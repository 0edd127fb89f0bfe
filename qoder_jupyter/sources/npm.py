"""``package.json``: its ``dependencies`` (and ``devDependencies`` when asked) as an npm list.

Each dependency becomes ``name@range`` as written (``react@^19.2.8``, ``lat@latest``); ``*``,
``x`` and ``""`` (any version) become the bare name, which npm installs at its ``latest`` tag.
What the npm list cannot hold is left out and reported, with what to do: local paths
(``file:``, ``link:``, ``../dir``), workspace packages (``workspace:``), aliases (``npm:``), git
repositories (``git+...``, ``github:...``, ``user/repo``), tarball URLs, and ranges the project's
rules refuse: a choice of ranges (``a || b``) or a range with spaces (``>=1 <2``, ``1 - 2``),
for which the fix suggests one range without spaces. A package listed again in
``devDependencies`` is taken once. ``optionalDependencies``, which npm also installs, are noted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import rules
from ..rules import json_kind
from ._file import file_error, read_text
from .report import Left, Note, PackageImport

__all__ = ["read"]

_GIT = ("git+", "git://", "github:", "gitlab:", "bitbucket:", "gist:")
_GITHUB_SHORTHAND = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+(#.*)?")
_ANY = ("", "*", "x", "X")
_PATHS = ("./", "../", "/", "~/")
_NOT_PUBLISHED_FIX = (
    "add '{name}@VERSION' to the npm list if it is published on npm; otherwise install it in "
    "the setup script"
)


def read(path: Path, name: str, *, dev: bool = False) -> PackageImport:
    """The npm entries of ``path``'s dependencies (and devDependencies with ``dev``)."""
    text = read_text(path, name)
    data = _json(text, name)
    report = PackageImport(sources=(name,))
    lines = text.splitlines()
    taken: dict[str, str] = {}  # package -> entry
    for section in ("dependencies", "devDependencies") if dev else ("dependencies",):
        for package, value in _section(data, section, name).items():
            where = _where(name, lines, section, package)
            _take(package, value, where, taken, report)
    optional = data.get("optionalDependencies")
    if isinstance(optional, dict) and optional:
        report.notes.append(
            Note(
                f"optionalDependencies ({', '.join(optional)}) were not read; npm installs them "
                "when it can: add those the code needs to the npm list.",
                name,
            )
        )
    return report


def _json(text: str, name: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise file_error(
            f"{name}:{error.lineno}",
            f"not valid JSON ({error.msg}, column {error.colno}): correct that line and import it "
            "again.",
        ) from None
    if not isinstance(data, dict):
        raise file_error(name, f"the file holds {json_kind(data)}: a package.json is an object.")
    return data


def _section(data: Mapping[str, Any], section: str, name: str) -> dict[str, Any]:
    value = data.get(section, {})
    if not isinstance(value, dict):
        raise file_error(
            name,
            f'"{section}" is {json_kind(value)}: it must be an object of package names and '
            "version ranges.",
        )
    return value


def _take(
    package: str, value: object, where: str, taken: dict[str, str], report: PackageImport
) -> None:
    outcome = _entry(package, value)
    if isinstance(outcome, Left):
        report.left_out.append(Left(outcome.entry, outcome.reason, outcome.fix, where))
        return
    key = rules.entry_key("npm", outcome)
    if key in taken:
        if taken[key] != outcome:
            report.notes.append(
                Note(f"{outcome} was not taken: {taken[key]} is taken already.", where)
            )
        return
    taken[key] = outcome
    report.packages.setdefault("npm", []).append(outcome)


def _entry(package: str, value: object) -> str | Left:
    """``package@range``, or why the dependency is left out (without ``where``)."""
    if not isinstance(value, str):
        return Left(
            package,
            f"its version is {json_kind(value)}, not a string",
            "write its version range as a string, such as '^1.2.0'",
        )
    spec = value.strip()
    written = f"{package}: {json.dumps(value)}"
    source = _source_left(package, spec, written)
    if source is not None:
        return source
    entry = package if spec in _ANY else f"{package}@{spec}"
    if "||" in spec or any(char.isspace() for char in spec):
        return _range_left(package, spec, written)
    problem = rules.package_problem("npm", entry)
    if problem is not None:
        return Left(
            written,
            problem,
            "correct it in the file and import it again, or add the corrected entry to the npm "
            "list yourself",
        )
    return entry


def _source_left(package: str, spec: str, written: str) -> Left | None:
    """A dependency that is not installed from the npm registry by version: left out."""
    lowered = spec.lower()
    not_published = _NOT_PUBLISHED_FIX.format(name=package)
    if lowered.startswith("npm:"):
        target = spec[4:]
        bare = target[1:].partition("@")[0] if target.startswith("@") else target.partition("@")[0]
        bare = f"@{bare}" if target.startswith("@") else bare
        return Left(
            written,
            f"an alias: it installs {target} under the name {package}",
            f"add '{target}' to the npm list if the code can import it as {bare}; to keep the "
            f"name {package}, install it in the setup script (npm install '{package}@{spec}')",
        )
    if lowered.startswith("workspace:"):
        return Left(
            written,
            "a workspace package: it is part of your own repository, not of the npm registry",
            not_published,
        )
    if lowered.startswith(("file:", "link:")) or spec.startswith(_PATHS) or spec in (".", ".."):
        return Left(written, "a local path: the sandbox has no copy of your files", not_published)
    if lowered.startswith(_GIT) or _GITHUB_SHORTHAND.fullmatch(spec):
        return Left(
            written,
            "a git repository: the npm list installs from the npm registry",
            f"{not_published} (npm install '{spec}', with {_git_host(spec)} allowed)",
        )
    if lowered.startswith(("http://", "https://")):
        host = urlsplit(spec).hostname or "its host"
        return Left(
            written,
            f"a tarball URL ({host}): the npm list installs from the npm registry",
            f"{not_published} (npm install '{spec}', with {host} allowed)",
        )
    return None


def _git_host(spec: str) -> str:
    lowered = spec.lower()
    for prefix, host in (("gitlab:", "gitlab.com"), ("bitbucket:", "bitbucket.org")):
        if lowered.startswith(prefix):
            return host
    if lowered.startswith(("git+", "git://")):
        url = spec.removeprefix("git+")
        return urlsplit(url).hostname or url.partition("@")[2].partition(":")[0] or "its host"
    return "github.com"


def _range_left(package: str, spec: str, written: str) -> Left:
    """A range of several parts: the npm list takes one part, written without spaces."""
    alternatives = [part.strip() for part in spec.split("||")]
    # The last alternative (usually the newest), or its lower bound when it has spaces; a
    # hyphen range's ("1.0.0 - 2.x") lower bound is its first version.
    last = alternatives[-1] or spec
    example = last.split()[0]
    if " - " in last and example[:1].isdigit():
        example = f">={example}"
    what = "a choice of ranges ('||')" if len(alternatives) > 1 else "a range with spaces"
    return Left(
        written,
        f"{what}: an npm entry takes one version, range or tag, written without spaces",
        f"pick one range, such as '{package}@{example}', or install '{package}@{spec}' in the "
        "setup script",
    )


def _where(name: str, lines: list[str], section: str, package: str) -> str:
    """``file:line`` of ``package`` in ``section``, or the file when it is not found."""
    section_key = re.compile(rf"\s*{re.escape(json.dumps(section))}\s*:")
    package_key = re.compile(rf"\s*{re.escape(json.dumps(package))}\s*:")
    start = next((i for i, text in enumerate(lines) if section_key.match(text)), None)
    if start is None:
        return name
    line = next((i for i in range(start, len(lines)) if package_key.match(lines[i])), None)
    return name if line is None else f"{name}:{line + 1}"

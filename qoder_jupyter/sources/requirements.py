"""pip requirements files (``requirements*.txt``), read as pip reads them, and the pip entries
every reader of Python requirements shares (:class:`PipEntries`, also used for pyproject.toml
and for environment.yml's ``pip:`` list).

The file format is pip's: ``#`` starts a comment at the start of a line or after whitespace; a
line ending in ``\\`` continues on the next; ``-r``/``--requirement`` includes another file,
relative to the including one (an include cycle is an error, a file included twice is read
once); options after a requirement (``--hash=...``) apply to it; lines starting with ``-`` are
options of the whole file. What is taken, each once, as written (surrounding space removed):
requirements that ``packaging`` parses (PEP 508) and the project's rules accept, environment
markers included (a note says when one is false in the sandbox, where pip skips the entry).

Left out and reported, each with what to do: ``-e`` editable installs, local paths
(``./pkg``, ``../x.whl``, ``file:``), direct URLs (``name @ https://...``, ``git+...``, a bare
archive URL), pins to a local version label (``torch==2.4.0+cpu``: PyPI has no such build),
``-c`` constraints files (they list no packages), and the options that change where or how pip
installs (``--index-url``, ``--extra-index-url``, ``--find-links``, ``--trusted-host``,
``--pre``, ``--no-binary``...): the sandbox installs the pip list from PyPI. ``--hash`` options
are dropped (one note per file): a package list carries names and versions, not hashes. A
user name or password in a URL is shown as ``***``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import rules
from .._markup import plural
from ._file import file_error, read_text
from .report import Left, Note, PackageImport
from .sandbox import MARKER_ENVIRONMENT, SANDBOX

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = ["PipEntries", "RequirementsReader", "hidden", "logical_lines", "read"]

_COMMENT = re.compile(r"(^|\s+)#.*$")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_VCS = re.compile(r"(git|hg|svn|bzr)\+", re.IGNORECASE)
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_EXTRAS = re.compile(r"\[([^\]]*)\]")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9._-]+)")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")

_LOCAL_PATH_FIX = (
    "if it is published on PyPI, add its name to the pip list; otherwise publish it where the "
    "sandbox can reach it, or fetch and install it in the setup script"
)


def read(path: Path, name: str) -> PackageImport:
    """The pip entries of a requirements file and of the files it includes."""
    report = PackageImport(sources=())
    RequirementsReader(report).read_file(path, name)
    return report


def hidden(text: str) -> str:
    """``text`` with the user name and password of any URL in it shown as ``***``: an index URL
    may carry a token, and a report ends up in a saved notebook."""
    return _CREDENTIALS.sub("***@", text)


# --- the pip list ----------------------------------------------------------------------------


class PipEntries:
    """The pip list of an import as it is taken: each requirement checked, and taken once."""

    def __init__(self, report: PackageImport) -> None:
        self.report = report
        self._keys: set[str] = set()
        #: The index URLs the file named so far (for the fix of a local version label).
        self.indexes: list[str] = []

    def add(self, text: str, where: str) -> bool:
        """Take one requirement (no options), or report it as left out. True when taken."""
        entry = text.strip()
        if not entry:
            return False
        outcome = self._entry(entry)
        if isinstance(outcome, Left):
            self.report.left_out.append(
                Left(outcome.entry, outcome.reason, outcome.fix, where=where)
            )
            return False
        requirement, key = outcome
        if key in self._keys:
            return False
        self._keys.add(key)
        self.report.packages.setdefault("pip", []).append(entry)
        if requirement.marker is not None and not _holds(requirement):
            self.report.notes.append(
                Note(
                    f"{entry}: its environment marker is false in {SANDBOX}, so pip skips it "
                    "there.",
                    where,
                )
            )
        return True

    def _entry(self, entry: str) -> tuple[Requirement, str] | Left:
        """The parsed requirement of ``entry`` and its key (equal for equal requirements), or
        why it is left out (``where`` not yet filled in)."""
        head = entry.split(";", 1)[0].strip()  # pip reads a URL's or a path's marker after ';'
        if _URL.match(head) or head.lower().startswith("file:"):
            return _url_left(entry, head, None)
        requirement = _parsed(entry)
        if requirement is not None and requirement.url:
            return _url_left(entry, requirement.url, requirement.name)
        if _looks_like_path(head):
            reason = "a local path: the sandbox has no copy of your files"
            return Left(hidden(entry), reason, _LOCAL_PATH_FIX)
        problem = rules.package_problem("pip", entry)
        if requirement is None or problem is not None:
            return Left(
                hidden(entry),
                problem or "not a requirement pip can read (PEP 508)",
                "correct it in the file and import it again, or add the corrected entry to the "
                "pip list yourself",
            )
        local = _local_label(requirement)
        if local is not None:
            return self._local_version_left(entry, local)
        return requirement, _key(requirement)

    def _local_version_left(self, entry: str, local: str) -> Left:
        public = entry.replace(f"+{local}", "", 1)
        if self.indexes:
            index = hidden(self.indexes[-1])
            host = urlsplit(self.indexes[-1]).hostname or index
            # The sandbox is Linux x86_64: the command needs no marker.
            command = f"pip install --extra-index-url {index} {_quoted(entry.split(';')[0])}"
            build = f"install this build in the setup script ({command}) and allow {host}"
        else:
            build = "install this build from its package index in the setup script"
        return Left(
            hidden(entry),
            f"'+{local}' is a local version label: PyPI has no such build (it comes from another "
            "package index)",
            f"add the public release {_quoted(public)} to the pip list instead, or {build}",
        )


def _quoted(text: str) -> str:
    """``text`` in the quotes it does not contain (an entry's marker has quotes of its own)."""
    text = text.strip()
    return f'"{text}"' if "'" in text else f"'{text}'"


def _parsed(entry: str) -> Requirement | None:
    from packaging.requirements import InvalidRequirement, Requirement  # only when reading

    try:
        return Requirement(entry)
    except InvalidRequirement:
        return None


def _key(requirement: Requirement) -> str:
    """Equal for requirements pip reads alike (``Pandas >= 2`` and ``pandas>=2``)."""
    name = re.sub(r"[-_.]+", "-", requirement.name).lower()
    extras = ",".join(sorted(re.sub(r"[-_.]+", "-", e).lower() for e in requirement.extras))
    marker = f";{requirement.marker}" if requirement.marker is not None else ""
    return f"{name}[{extras}]{requirement.specifier}{marker}"


def _holds(requirement: Requirement) -> bool:
    """Whether pip in the sandbox installs ``requirement`` (its marker is true there)."""
    if requirement.marker is None:
        return True
    try:
        return bool(requirement.marker.evaluate(dict(MARKER_ENVIRONMENT)))
    except Exception:  # a comparison packaging cannot make: say nothing rather than guess
        return True


def _local_label(requirement: Requirement) -> str | None:
    """The local version label a ``==`` pin names (``cpu`` of ``==2.4.0+cpu``), or None."""
    for specifier in requirement.specifier:
        if specifier.operator in ("==", "===") and "+" in specifier.version:
            return specifier.version.split("+", 1)[1]
    return None


def _looks_like_path(head: str) -> bool:
    """Whether pip would read ``head`` as a local path (or archive) rather than a name."""
    lowered = head.lower()
    return (
        head.startswith((".", "/", "~"))
        or "\\" in head
        or ("/" in head and "@" not in head)
        or lowered.endswith(_ARCHIVES)
    )


def _url_left(entry: str, url: str, name: str | None) -> Left:
    """A requirement that installs from a URL: left out, with how to install it anyway."""
    shown, shown_url = hidden(entry), hidden(url)
    if url.lower().startswith("file:") or not _URL.match(url):
        reason = f"a local path ({shown_url}): the sandbox has no copy of your files"
        return Left(shown, reason, _LOCAL_PATH_FIX)
    host = urlsplit(_VCS.sub("", url, count=1)).hostname or "its host"
    what = "a git repository URL" if _VCS.match(url) else "a direct URL"
    egg = _EGG.search(url)
    name = name or (egg[1] if egg else None)
    pinned = _quoted(f"{name} @ {shown_url}") if name else f"it as 'NAME @ {shown_url}'"
    release = f"or add the PyPI release '{name}' instead" if name else "or add its PyPI name"
    return Left(
        shown,
        f"{what}: pip would download it from {host}, not from PyPI",
        f"add {pinned} to the pip list yourself and allow {host}, {release}",
    )


# --- requirements files ----------------------------------------------------------------------

#: pip's requirements-file options that take a value (short forms: their long names).
_SHORT = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
}
_WITH_VALUE = {
    *_SHORT.values(),
    *("--extra-index-url", "--trusted-host", "--no-binary", "--only-binary", "--use-feature"),
    *("--hash", "--config-settings", "--global-option", "--install-option"),
}

#: What each option of a whole file would do, and what to do instead: (reason, fix), with
#: ``{value}`` and ``{host}`` filled in.
_OPTIONS = {
    "--index-url": (
        "an index option: pip would install the packages of this file from {value} instead of "
        "PyPI, and the sandbox installs the pip list from PyPI",
        "if these packages are on PyPI, nothing is lost; otherwise allow {host} and install "
        "them in the setup script (pip install --index-url {value} ...)",
    ),
    "--extra-index-url": (
        "an index option: pip would also look for packages in {value}, and the sandbox "
        "installs the pip list from PyPI alone",
        "allow {host} and install the packages that need it in the setup script (pip install "
        "--extra-index-url {value} ...)",
    ),
    "--find-links": (
        "an index option: pip would also look for archives in {value}",
        "install the packages found there in the setup script (a local folder must be fetched "
        "first: the sandbox has no copy of your files)",
    ),
    "--no-index": (
        "an index option: pip would install nothing from an index, only from --find-links",
        "install these packages in the setup script if they must not come from PyPI",
    ),
    "--trusted-host": (
        "an index option: pip would trust {value} without a verified HTTPS connection",
        "install the packages of that host in the setup script, and allow it",
    ),
    "--pre": (
        "an install option: pip would also consider pre-releases",
        "pin the pre-releases you need (such as 'name==2.0rc1'), or install them in the setup "
        "script with pip install --pre",
    ),
    "--no-binary": (
        "an install option: pip would build {value} from source",
        "install those packages in the setup script with the same option",
    ),
    "--only-binary": (
        "an install option: pip would take only wheels for {value}",
        "install those packages in the setup script with the same option",
    ),
    "--prefer-binary": (
        "an install option: pip would prefer older wheels to newer sources",
        "install the packages in the setup script with the same option, if it matters",
    ),
    "--require-hashes": (
        "an install option: pip's hash-checking mode, and the pip list carries no hashes",
        "the versions stay pinned; check hashes in the setup script if you need them",
    ),
    "--use-feature": (
        "an install option: pip would turn on its feature {value}",
        "install the packages in the setup script with the same option, if it matters",
    ),
}


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines pip reads in a requirements file, as (number of the first physical line, text):
    continuations joined, comments and blank lines removed (pip's own ``join_lines`` and
    ``ignore_comments``)."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        is_comment = bool(_COMMENT.match(line))
        if line.endswith("\\") and not is_comment:
            if not pending:
                start = number
            pending.append(line.strip("\\"))
            continue
        if is_comment:
            line = " " + line  # so the comment is removed once joined to what comes before
        if pending:
            pending.append(line)
            line, number = "".join(pending), start
            pending = []
        yield from _content(number, line)
    if pending:  # a file ending with a continuation
        yield from _content(start, "".join(pending))


def _content(number: int, line: str) -> Iterator[tuple[int, str]]:
    text = _COMMENT.sub("", line).strip()
    if text:
        yield number, text


class RequirementsReader:
    """Reads requirements files and lines into a report, following ``-r`` includes."""

    def __init__(self, report: PackageImport, pip: PipEntries | None = None) -> None:
        self.report = report
        self.pip = pip or PipEntries(report)
        self._chain: list[tuple[Path, str]] = []  # the files being read, outermost first
        self._done: set[Path] = set()

    def read_file(self, path: Path, name: str) -> None:
        """Read one requirements file (and what it includes)."""
        resolved = path.resolve()
        if resolved in self._done:
            return  # included twice (not a cycle): its entries are taken already
        text = read_text(path, name)
        self.report.sources = (*self.report.sources, name)
        self._chain.append((resolved, name))
        try:
            self.read_lines(logical_lines(text), name, path.parent)
        finally:
            self._chain.pop()
        self._done.add(resolved)

    def read_lines(self, lines: Iterable[tuple[int, str]], name: str, folder: Path) -> None:
        """Read the logical lines of ``name`` (numbered); includes are relative to ``folder``."""
        hashed = 0
        for number, line in lines:
            hashed += self.read_line(line, f"{name}:{number}", folder)
        if hashed:
            self.report.notes.append(
                Note(
                    f"The --hash options of {plural(hashed, 'requirement')} were dropped: the pip "
                    "list carries names and versions, not hashes (the versions stay pinned).",
                    name,
                )
            )

    def read_line(self, line: str, where: str, folder: Path) -> int:
        """Read one logical line; 1 when a requirement with hashes was taken, else 0."""
        if line.startswith("-"):
            self._options(line, where, folder)
            return 0
        requirement, options = _split_options(line)
        hashes, others = _requirement_options(options)
        taken = self.pip.add(requirement, where)
        if taken and others:
            self.report.notes.append(
                Note(
                    f"{requirement}: its options {' '.join(others)} were dropped: the pip list "
                    "takes requirements only (install it in the setup script if they matter).",
                    where,
                )
            )
        return int(taken and hashes > 0)

    def _options(self, line: str, where: str, folder: Path) -> None:
        try:
            tokens = shlex.split(line)
        except ValueError:
            reason = "an option line that cannot be read (an unclosed quote)"
            self._left(line, reason, "correct the line in the file", where)
            return
        for option, value, written in _parsed_options(tokens):
            self._option(option, value, written, where, folder)

    def _option(self, option: str, value: str, written: str, where: str, folder: Path) -> None:
        if option == "--requirement":
            self._include(value, written, where, folder)
        elif option == "--editable":
            self.report.left_out.append(_editable_left(value, written, where))
        elif option == "--constraint":
            self._left(
                written,
                "a constraints file: it limits the versions of packages listed elsewhere and "
                "lists none itself, so it was not read",
                "pin the versions you need in the entries themselves (such as 'name==1.2')",
                where,
            )
        elif option in _OPTIONS:
            if option in ("--index-url", "--extra-index-url"):
                self.pip.indexes.append(value)
            reason, fix = _OPTIONS[option]
            host = urlsplit(value).hostname or value
            fill = {"value": _which_packages(hidden(value)), "host": host}
            self._left(written, reason.format(**fill), fix.format(**fill), where)
        else:
            reason = f"{option} is not an option of pip's requirements files"
            self._left(written, reason, "remove it from the file", where)

    def _include(self, value: str, written: str, where: str, folder: Path) -> None:
        if _URL.match(value):
            fix = "download the file and import it with --packages-from"
            self._left(written, "an include from a URL: it was not downloaded", fix, where)
            return
        path = folder / value
        resolved = path.resolve()
        name = _joined(where.rpartition(":")[0], value)
        if any(resolved == each for each, _ in self._chain):
            chain = " → ".join([*(shown for _, shown in self._chain), name])
            raise file_error(
                where,
                f"'{written}' includes {name} again while it is being read ({chain}): remove one "
                "of these -r lines.",
            )
        if not path.exists():
            raise file_error(
                where,
                f"'{written}' includes {name}, which does not exist (looked in "
                f"{path.parent.resolve()}): an include is relative to the file that names it.",
            )
        self.read_file(path, name)

    def _left(self, entry: str, reason: str, fix: str, where: str) -> None:
        self.report.left_out.append(Left(hidden(entry), reason, fix, where=where))


def _joined(including: str, value: str) -> str:
    """How an included file is shown: its path next to the including file's, as given."""
    folder = including.replace("\\", "/").rpartition("/")[0]
    return f"{folder}/{value}" if folder and not value.startswith("/") else value


def _split_options(line: str) -> tuple[str, str]:
    """A requirement line split into the requirement and its options (pip's
    ``break_args_options``: the options start at the first word starting with '-')."""
    words = line.split(" ")
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]), " ".join(words[index:])
    return line, ""


def _requirement_options(options: str) -> tuple[int, list[str]]:
    """How many ``--hash`` options ``options`` has, and the other options (as written)."""
    try:
        words = shlex.split(options)
    except ValueError:
        words = options.split()
    hashes = sum(1 for word in words if word.startswith("--hash"))
    others = [word for word in words if word.startswith("-") and not word.startswith("--hash")]
    return hashes, others


def _parsed_options(tokens: list[str]) -> Iterator[tuple[str, str, str]]:
    """The options of an option line, as (long name, value, as written): ``--opt=value``,
    ``--opt value``, ``-r value`` and ``-rvalue`` alike."""
    index = 0
    while index < len(tokens):
        written = tokens[index]
        index += 1
        if written.startswith("--"):
            option, equals, value = written.partition("=")
            joined = bool(equals)
        elif written.startswith("-") and len(written) > 1:
            option, value = _SHORT.get(written[:2], written[:2]), written[2:]
            joined = bool(value)
        else:
            yield written, "", written  # not an option: reported as unknown
            continue
        if option in _WITH_VALUE and not joined and index < len(tokens):
            value = tokens[index]
            written = f"{written} {value}"
            index += 1
        yield option, value, written


def _editable_left(value: str, written: str, where: str) -> Left:
    """An ``-e`` install: from a VCS URL or a local folder, neither of which the list can take."""
    if _URL.match(value):
        url = value.split("#", 1)[0]
        egg = _EGG.search(value)
        host = urlsplit(_VCS.sub("", url, count=1)).hostname or "its host"
        name = f"'{egg[1]}'" if egg else "its name"
        return Left(
            hidden(written),
            f"an editable install from a {'git repository' if _VCS.match(value) else 'URL'} "
            f"({host}): the pip list installs from PyPI",
            f"if it is published on PyPI, add {name} to the pip list; otherwise install it in "
            f"the setup script (pip install '{hidden(url)}') and allow {host}",
            where=where,
        )
    extras = _EXTRAS.search(value)
    with_extras = f", with --extras {extras[1].replace(' ', '')}" if extras else ""
    return Left(
        hidden(written),
        f"an editable install of the local folder '{value}': the sandbox has no copy of your files",
        f"import the project's own dependencies instead (--packages-from pyproject.toml"
        f"{with_extras}), or add its name to the pip list if it is published on PyPI",
        where=where,
    )


def _which_packages(value: str) -> str:
    """pip's package selectors (``:all:``, ``:none:``) in words, for ``--no-binary`` and
    ``--only-binary``; any other value as it is."""
    return {":all:": "every package", ":none:": "no package"}.get(value, value)
